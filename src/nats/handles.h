// RAII owners for cnats handles: every handle slip creates is held by one
// of these from the moment it exists, so no error path leaks it.
#pragma once

#include <nats/nats.h>

#include <memory>

namespace slip::nats {

template <auto Destroy>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    if (p != nullptr) Destroy(p);
  }
};

using OptionsPtr = std::unique_ptr<natsOptions, Deleter<natsOptions_Destroy>>;
using ConnectionPtr = std::unique_ptr<natsConnection, Deleter<natsConnection_Destroy>>;
using JsCtxPtr = std::unique_ptr<jsCtx, Deleter<jsCtx_Destroy>>;
using MsgPtr = std::unique_ptr<natsMsg, Deleter<natsMsg_Destroy>>;
using MetaPtr = std::unique_ptr<jsMsgMetaData, Deleter<jsMsgMetaData_Destroy>>;
using PubAckPtr = std::unique_ptr<jsPubAck, Deleter<jsPubAck_Destroy>>;
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, Deleter<jsStreamInfo_Destroy>>;
using StreamInfoListPtr = std::unique_ptr<jsStreamInfoList, Deleter<jsStreamInfoList_Destroy>>;
using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, Deleter<jsConsumerInfo_Destroy>>;

// A subscription, which unlike the handles above cannot simply be
// destroyed: cnats 3.4's reader thread (natsConn_processMsg) uses the
// subscription of a message it is delivering without holding a reference
// to it, so destroying it meanwhile is a use-after-free (a crash on the
// way out of `slip watch`). reset() and the destructor therefore
// unsubscribe first and then flush: once the server's PONG has been read,
// the reader thread is done with every message sent before the
// unsubscribe. NC must outlive this owner. Implemented in subscription.cc.
class Subscription {
 public:
  Subscription() = default;
  Subscription(natsConnection* nc, natsSubscription* sub) : nc_(nc), sub_(sub) {}
  ~Subscription() { reset(); }
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  natsSubscription* get() const { return sub_; }
  // Unsubscribes, waits for the reader thread, destroys; empty afterwards.
  void reset();

 private:
  natsConnection* nc_ = nullptr;
  natsSubscription* sub_ = nullptr;
};

}  // namespace slip::nats
