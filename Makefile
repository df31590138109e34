# Build, install and try ipctools. cargo does the building; this file only adds what
# cargo does not: installing the man pages, a demo, and the CI entry point.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man/man1
PROGS := $(basename $(notdir $(wildcard src/bin/*.rs)))
# Release builds are static (glibc static-pie) for the host: a chain-loader lives a
# millisecond, and dynamic loading is most of a dynamically linked Rust binary's start-up
# cost and of its idle RSS (see doc/performance.md). STATIC=0 builds a dynamic one.
# crt-static needs an explicit --target, or proc-macro crates would be built static too.
HOST := $(shell rustc -vV | sed -n 's/^host: //p')
STATIC ?= 1
ifeq ($(STATIC),1)
BUILD_RUSTFLAGS := -C target-feature=+crt-static $(RUSTFLAGS)
else
BUILD_RUSTFLAGS := $(RUSTFLAGS)
endif
REL := target/$(HOST)/release

.PHONY: all install uninstall demo check
all:
	RUSTFLAGS="$(BUILD_RUSTFLAGS)" cargo build --release --bins --target $(HOST)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	for p in $(PROGS); do install -m 755 $(REL)/$$p $(DESTDIR)$(BINDIR)/$$p; done
	install -m 644 doc/*.1 $(DESTDIR)$(MANDIR)/

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/$$p.1; done

# Start a local service on a fresh socket, talk to it, stop it.
demo: all
	@d=$$(mktemp -d); \
	$(REL)/ipcserver -1 -v $$d/demo.sock sh -c 'read line; echo "hello uid $$IPCREMOTEEUID (connection $$IPCCONNNUM): you said \"$$line\""' > $$d/ready & \
	pid=$$!; \
	while [ ! -s $$d/ready ]; do sleep 0.05; done; \
	echo "server ready on $$(cat $$d/ready)"; \
	$(REL)/ipcclient $$d/demo.sock sh -c 'echo ping >&7; cat <&6'; \
	kill $$pid; rm -rf $$d

# Install the peers the tests use (Debian, as root) and run the whole suite.
check:
	bash .ci/run
