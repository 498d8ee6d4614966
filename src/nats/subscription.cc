// Subscription (handles.h): a subscription dropped only once cnats' reader
// thread can no longer be delivering to it.
#include <utility>

#include "nats/handles.h"

namespace slip::nats {

namespace {

// How long a drop may wait for the server's PONG. On a healthy connection
// it comes within milliseconds, even behind a burst of deliveries.
constexpr int64_t kFlushTimeoutMs = 2000;

bool connected(natsConnection* nc) {
  return nc != nullptr && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace

Subscription::Subscription(Subscription&& other) noexcept
    : nc_(std::exchange(other.nc_, nullptr)), sub_(std::exchange(other.sub_, nullptr)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    nc_ = std::exchange(other.nc_, nullptr);
    sub_ = std::exchange(other.sub_, nullptr);
  }
  return *this;
}

void Subscription::reset() {
  natsSubscription* sub = std::exchange(sub_, nullptr);
  natsConnection* nc = std::exchange(nc_, nullptr);
  if (sub == nullptr) return;
  // Not connected (closed, or reconnecting): no socket, so the reader
  // thread is not delivering anything.
  if (connected(nc)) {
    // Its result does not matter: whether the server took the unsubscribe
    // is what the flush tells.
    natsSubscription_Unsubscribe(sub);
    if (natsConnection_FlushTimeout(nc, kFlushTimeoutMs) != NATS_OK && connected(nc)) {
      // Still connected, yet unconfirmed: the reader thread may still be
      // delivering to SUB. Leaking it is cheap; destroying it can crash.
      return;
    }
  }
  natsSubscription_Destroy(sub);
}

}  // namespace slip::nats
