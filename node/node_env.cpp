#include "node/node_env.h"

#include "crypto/aead.h"
#include "crypto/node_identity.h"
#include "net/peer_net.h"
#include "net/udp_socket.h"
#include "node/config.h"
#include "node/front/client_server.h"
#include "node/front/verification_sender.h"
#include "storage/rocks_store.h"

namespace dhtalk {

NodeEnv system_node_env(const Clock& clock) {
    NodeEnv env;
    env.clock = &clock;
    env.open_store = [](const std::filesystem::path& dir) -> Result<std::unique_ptr<Store>> {
        auto store = RocksStore::open(dir);
        if (!store) return store.status();
        return std::unique_ptr<Store>(std::move(store).value());
    };
    env.make_sms_sender = [&clock](const NodeConfig& config) -> std::unique_ptr<VerificationSender> {
        if (config.sms_provider == "vonage") return std::make_unique<VonageSender>(config.vonage);
        return std::make_unique<FileSender>(config.sms_file, clock);
    };
    env.drivers = std::make_shared<ThreadDrivers>(clock);
    env.open_datagram_socket = open_udp_datagram_socket;
    env.peer_net = &tcp_peer_net();
    env.open_client_front = [](const ClientServerConfig& config, std::shared_ptr<crypto::TlsCredentials> credentials,
                               ClientHandler& handler, const Clock& clock) -> Result<std::unique_ptr<ClientFront>> {
        auto server = ClientServer::start(config, std::move(credentials), handler, clock);
        if (!server) return server.status();
        return std::unique_ptr<ClientFront>(std::move(server).value());
    };
    env.random_seed = [] { return crypto::random_u64(); };
    env.load_identity = [](const std::filesystem::path& dir) { return crypto::load_or_create_identity(dir); };
    return env;
}

}  // namespace dhtalk
