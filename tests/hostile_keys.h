#pragma once
// Keys that honest software never makes, for tests of the checks that refuse
// them. Made once with OpenSSL (GnuTLS cannot choose an exponent):
//   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048
//       -pkeyopt rsa_keygen_pubexp:$(python3 -c 'print(2**1000+1)')
// (one command line).

namespace dhtalk::test {

// RSA-2048 with public exponent 2^1000+1.
inline constexpr const char* kHugeExponentKeyPem = R"(
-----BEGIN PRIVATE KEY-----
MIIFOAIBADANBgkqhkiG9w0BAQEFAASCBSIwggUeAgEAAoIBAQC4Bzhzu6Funfet
7RbSogJ8u3rVrIQS8BFHvxghUOq8F3BgtA5vzGPFvNrW2bH9p5GGcPka49Ufe5ME
fwe853Cp7/M6W17tiflVlyYafBUu7kVQylrLo6Cs8SZP1R/CNexWE9N1AL6MeqKh
0btFBc3zdH4fkCbG9wl0Teg0MZFKZQrTKK/zt0ORBHqlNaqgBuOp2YWofwvrRBXS
ui0TDpS9PShhFv8CzCJfyjHHyNv6R1yRB/h+/C34yumeFPpbqZaHI+ou/9ZGw+sJ
NyzrQjBGK6+ULnyXytD+pa4PjAo5ZbHBF4fu9VTUgyCGgklBav7KGIZTuDv6nppr
S9q201T3An4BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAECggEACJ3t0XmD
6tgQmYVpKiGmCOFISQW/I+rg1R67HYslG3L8LHVbGfiCvFvOEUaHFrKG76nykKjU
8VIg1SKBFm1yeSAA/YIIQTp5VtOiagN+kOjbwkMxL29xFZBhB6P8TwDdSI3HN2Br
pret9PWyT7RG8BGQOoB3MHO/5d/LODcujtf3tIHXuIqFPCfbSk++84Zd8N9ekGq9
AtWDMZSc6jLIpICfBhSZ5pu41bi0CI+MUzznxSFBksRkchQESJtrvklvfVR77KSe
PGjt/Ad5FQaJ569rTNE5gXr/rFzir7zPG7fxqYhvohx5ji/8tWBtqo9Kmgt8yn/k
bXbvyQVTN/AUwQKBgQDnau9CMt9DlLAEQ5XIM1u4gOOfRqA+tK1AEweX8Gmm3n2p
d8gB/y/KPFtsnOXIK1xncnmavHI9PDLxUmrYMeRIDqvrrVoef07myjFGkK8Od3BO
kO1a2BlVIuSLqYTFv9TzWEuKTtxf4dV8XO+trNa+Kp5M3V4sbOcm1zW89/kRsQKB
gQDLk5kEXH6anlrFH4PdQDEPVtSf1rG05siNKa8FhodcjwsxF/ezonjl9voubbqy
GSsEHM9+hL9u9RXTGzwkMHHThHHFXISkNelUFBRaqq/K11N7rPNLgbK3JKyxTCrq
SzCP9ynedmmaycr3Alsp1snbOgflOnj2+iDdK6v7Y4mTJwKBgBCy8DEIx5Mw9bCe
NVOTVUw81byEHEFWnio67d019OxcWOM1oZzQarswqMMgit0cj7wgETIo+YGsI9hD
9wd7I31f469Tdl6F9z3tZ+OKgFTXImUczFw3uuWjNogDxnOTZWIwlQE9zI1AApB/
d6lqkgtWuBq1Z3fwSPNzbj2pE+ERAoGBAJGPCgKf9vApdiAA0ihYvY6pv8rQMaUW
zzBqxbw9cp4UAghFyllzsdGDOXdzB+Y2WGbtt+4/+bnZ80XmobTgWOQGLXf+MFBq
DWYMd5LoVsoJExZaIPCR3ixMi9ZXkCl3X1CU/nsuK94y6hEWWDQ+sOOLOMZagCzy
FSAVek3pJg9HAoGAOo12BJakV4upBPRDHV7wmgv8sVUCHIytPhV0p+Wf1TsMe2r7
A7a4SuxEylJE4/ievfxyPrh7xutHpdXvf2idt1iwRETJ56QEAzW5z3sIMFsAKFq5
m20EwyhHZa4moavD17NZ6Te6vePWTHU13VEoJBQbBbvOJR8ENz38OGfRTis=
-----END PRIVATE KEY-----
)";

}  // namespace dhtalk::test
