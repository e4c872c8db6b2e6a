// crypto/: the node identity is created once, reused, and refused when damaged;
// the network id is stable and never the public network's.
#include <sys/stat.h>

#include "common/files.h"
#include "crypto/fast_key.h"
#include "crypto/network_id.h"
#include "crypto/node_identity.h"
#include "testing/test_util.h"

#include "tests/doctest.h"

using namespace dhtalk;

namespace {
// Small keys keep the suite fast; the node itself uses kNodeKeyBits.
constexpr unsigned kTestBits = 2048;
}  // namespace

TEST_CASE("identity is created once, then reused with the same node id") {
    test::TempDir dir;
    auto first = crypto::load_or_create_identity(dir / "id", kTestBits);
    REQUIRE(first.is_ok());
    struct stat st {};
    REQUIRE(::stat((dir / "id" / "node.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((dir / "id").c_str(), &st) == 0);
    CHECK((st.st_mode & 077) == 0);
    auto again = crypto::load_or_create_identity(dir / "id", kTestBits);
    REQUIRE(again.is_ok());
    CHECK(again->node_id() == first->node_id());
    CHECK(first->node_id_hex().size() == 40);
    // The fast key too: kept with owner-only permissions, the same on reload.
    REQUIRE(::stat((dir / "id" / "fast.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(first->fast_public.size() == crypto::kFastPublicKeyBytes);
    CHECK(again->fast_public == first->fast_public);
}

TEST_CASE("an identity without a fast key gets one; a damaged or exposed fast key is refused") {
    test::TempDir dir;
    const auto id_dir = dir / "id";
    const auto made = crypto::load_or_create_identity(id_dir, kTestBits).value();
    SUBCASE("missing: made, the node id unchanged") {
        std::filesystem::remove(id_dir / "fast.key");
        auto again = crypto::load_or_create_identity(id_dir, kTestBits);
        REQUIRE(again.is_ok());
        CHECK(again->node_id() == made.node_id());
        CHECK(again->fast_public.size() == crypto::kFastPublicKeyBytes);
        CHECK(again->fast_public != made.fast_public);
    }
    SUBCASE("garbage") {
        REQUIRE(write_file_atomic(id_dir / "fast.key", "not a key", 0600).is_ok());
        CHECK(crypto::load_or_create_identity(id_dir, kTestBits).status().code() == Code::kCorruption);
    }
    SUBCASE("an RSA key where the Ed25519 one belongs") {
        std::filesystem::copy_file(id_dir / "node.key", id_dir / "fast.key", std::filesystem::copy_options::overwrite_existing);
        auto r = crypto::load_or_create_identity(id_dir, kTestBits);
        CHECK(r.status().code() == Code::kCorruption);
        CHECK(r.status().message().find("not an Ed25519 key") != std::string::npos);
    }
    SUBCASE("readable by others") {
        REQUIRE(::chmod((id_dir / "fast.key").c_str(), 0644) == 0);
        CHECK(crypto::load_or_create_identity(id_dir, kTestBits).status().code() == Code::kInvalidArgument);
    }
}

TEST_CASE("a damaged or incomplete identity is refused, never replaced") {
    test::TempDir dir;
    const auto id_dir = dir / "id";
    REQUIRE(crypto::load_or_create_identity(id_dir, kTestBits).is_ok());
    auto key = read_file(id_dir / "node.key", 1 << 20);
    REQUIRE(key.is_ok());

    SUBCASE("garbage key") {
        REQUIRE(write_file_atomic(id_dir / "node.key", "not a key", 0600).is_ok());
        CHECK(crypto::load_or_create_identity(id_dir, kTestBits).status().code() == Code::kCorruption);
    }
    SUBCASE("truncated certificate") {
        REQUIRE(write_file_atomic(id_dir / "node.crt", "-----BEGIN CERTIFICATE-----\nMIIB", 0644).is_ok());
        CHECK(crypto::load_or_create_identity(id_dir, kTestBits).status().code() == Code::kCorruption);
    }
    SUBCASE("certificate missing") {
        std::filesystem::remove(id_dir / "node.crt");
        CHECK(crypto::load_or_create_identity(id_dir, kTestBits).status().code() == Code::kCorruption);
        CHECK_FALSE(std::filesystem::exists(id_dir / "node.crt"));  // not silently recreated
    }
    SUBCASE("key and certificate of different nodes") {
        test::TempDir other;
        REQUIRE(crypto::load_or_create_identity(other / "id", kTestBits).is_ok());
        std::filesystem::copy_file(other / "id" / "node.crt", id_dir / "node.crt",
                                   std::filesystem::copy_options::overwrite_existing);
        CHECK(crypto::load_or_create_identity(id_dir, kTestBits).status().code() == Code::kCorruption);
    }
    SUBCASE("key readable by others") {
        REQUIRE(::chmod((id_dir / "node.key").c_str(), 0644) == 0);
        auto r = crypto::load_or_create_identity(id_dir, kTestBits);
        CHECK(r.status().code() == Code::kInvalidArgument);
        CHECK(r.status().message().find("chmod 600") != std::string::npos);
    }
    SUBCASE("an oversized key file") {
        REQUIRE(write_file_atomic(id_dir / "node.key", std::string(200'000, 'A'), 0600).is_ok());
        CHECK(crypto::load_or_create_identity(id_dir, kTestBits).status().code() == Code::kCorruption);
    }
}

TEST_CASE("network id: the same for a name, different across names, never 0") {
    CHECK(crypto::network_id_from_name("alpha") == crypto::network_id_from_name("alpha"));
    CHECK(crypto::network_id_from_name("alpha") != crypto::network_id_from_name("beta"));
    for (int i = 0; i < 1000; ++i) CHECK(crypto::network_id_from_name("n" + std::to_string(i)) != 0);
}
