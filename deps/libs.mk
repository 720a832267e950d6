# libs.mk: where the Debian packages put what volley links statically, and llhttp's sources.

MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
LIBDIR := /usr/lib/$(MULTIARCH)

LLHTTP_SRC := /usr/share/llhttp/api.c /usr/share/llhttp/http.c /usr/share/llhttp/llhttp.c
LLHTTP_INC := /usr/share/include/llhttp

DEP_CFLAGS := -I$(LLHTTP_INC) -I/usr/include/luajit-2.1 -I/usr/include/lua5.1

# Static archives, in link order (users before what they use).
DEP_STATIC := $(LIBDIR)/liblua5.1-cjson.a $(LIBDIR)/libluajit-5.1.a $(LIBDIR)/libuv_a.a \
	$(LIBDIR)/libmbedtls.a $(LIBDIR)/libmbedx509.a $(LIBDIR)/libmbedcrypto.a \
	$(LIBDIR)/libjansson.a $(LIBDIR)/libz.a
DEP_DYNAMIC := -lpthread -ldl -lm
