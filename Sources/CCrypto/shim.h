// OpenSSL 3's libcrypto, seen from Swift: only the EVP message-digest interface (SHA-256).
#include <openssl/evp.h>
