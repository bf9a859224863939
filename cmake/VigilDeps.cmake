# System libraries as pkg-config imported targets (all ship .pc files on Debian 12).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LIBBPF   REQUIRED IMPORTED_TARGET libbpf)
pkg_check_modules(LIBELF   REQUIRED IMPORTED_TARGET libelf)
pkg_check_modules(ZLIB     REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(YAML     REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(LUA      REQUIRED IMPORTED_TARGET lua5.4)
pkg_check_modules(MSGPACK  REQUIRED IMPORTED_TARGET msgpack)
pkg_check_modules(NANOMSG  REQUIRED IMPORTED_TARGET nanomsg)
pkg_check_modules(JANSSON  REQUIRED IMPORTED_TARGET jansson)          # export filters (JSON)
pkg_check_modules(MHD      REQUIRED IMPORTED_TARGET libmicrohttpd)    # metrics endpoint
pkg_check_modules(NGHTTP2  REQUIRED IMPORTED_TARGET libnghttp2)       # CRI client (gRPC over HTTP/2)
pkg_check_modules(CURL     REQUIRED IMPORTED_TARGET libcurl)         # GetUrl over https
pkg_check_modules(OPENSSL  REQUIRED IMPORTED_TARGET openssl)         # control over mutual TLS
pkg_check_modules(CMOCKA   IMPORTED_TARGET cmocka)
