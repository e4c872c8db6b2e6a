#pragma once
// RelaySocket: the base of a datagram socket stacked on another one
// (SealedSocket, GossipSocket), which hands up what the socket below read.
//
// OpenDHT gives back the packets it has read, for the socket that handed
// them up to read into again (DatagramSocket::onReceived keeps them in that
// socket's recycle list). Only the socket at the bottom reads into packets:
// in a relay's own list they would pile up unread, up to OpenDHT's bound of
// 65,536 packets a socket, with their buffers. hand_up() takes them out
// again for the relay to return to the socket below.

#include <opendht/network_utils.h>

namespace dhtalk {

class RelaySocket : public dht::net::DatagramSocket {
protected:
    // Hands `packets` to the socket above, and moves what it gave back to
    // the end of `give_back`. Call it from the socket below's receive
    // callback only (the recycle list is read without the lock).
    void hand_up(dht::net::PacketList&& packets, dht::net::PacketList& give_back) {
        onReceived(std::move(packets));
        // getNewPacket() takes a recycled packet, or makes an empty one once
        // the list is empty: a read packet keeps its buffer, so the first
        // packet without one ends the list. (A zero-byte datagram's packet
        // ends it early; the rest goes down at the next call.)
        for (;;) {
            auto packet = getNewPacket();
            const bool made = packet.front().data.capacity() == 0;
            give_back.splice(give_back.end(), packet);
            if (made) return;
        }
    }
};

}  // namespace dhtalk
