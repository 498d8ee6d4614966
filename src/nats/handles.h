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
using SubscriptionPtr = std::unique_ptr<natsSubscription, Deleter<natsSubscription_Destroy>>;
using MsgPtr = std::unique_ptr<natsMsg, Deleter<natsMsg_Destroy>>;
using MetaPtr = std::unique_ptr<jsMsgMetaData, Deleter<jsMsgMetaData_Destroy>>;
using PubAckPtr = std::unique_ptr<jsPubAck, Deleter<jsPubAck_Destroy>>;
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, Deleter<jsStreamInfo_Destroy>>;
using StreamInfoListPtr = std::unique_ptr<jsStreamInfoList, Deleter<jsStreamInfoList_Destroy>>;
using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, Deleter<jsConsumerInfo_Destroy>>;

}  // namespace slip::nats
