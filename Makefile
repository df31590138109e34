# Build, install, package and try ipctools. cargo does the building; this file only adds
# what cargo does not: the static build, installing the man pages, a Debian package, a
# demo, and the CI entry point.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man/man1
DOCDIR ?= $(PREFIX)/share/doc/ipctools
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

.PHONY: all install install-examples uninstall deb demo check
all:
	RUSTFLAGS="$(BUILD_RUSTFLAGS)" cargo build --release --bins --target $(HOST)

# The service directories go where the .deb puts them (DOCDIR/examples/service), with
# their modes (run scripts stay executable); only tracked files in a git checkout (a
# service tried in place leaves supervise/ and env/ behind).
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(DOCDIR)/examples
	for p in $(PROGS); do install -m 755 $(REL)/$$p $(DESTDIR)$(BINDIR)/$$p; done
	install -m 644 doc/*.1 $(DESTDIR)$(MANDIR)/
	$(MAKE) --no-print-directory install-examples

install-examples:
	install -d $(DESTDIR)$(DOCDIR)/examples
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git ls-files -z service; \
	  else find service -type f -print0; fi | tar --null -T - -cf - | \
	  tar --no-same-owner -xf - -C $(DESTDIR)$(DOCDIR)/examples
	chmod -R u+rwX,go+rX,go-w $(DESTDIR)$(DOCDIR)/examples

uninstall:
	for p in $(PROGS); do rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/$$p.1; done
	rm -rf $(DESTDIR)$(DOCDIR)/examples/service
	rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || :

# A Debian package of what `make install PREFIX=/usr` installs, plus the service
# directories and README.md as examples: target/ipctools_VERSION_ARCH.deb. Every program
# in src/bin and every doc/*.1 is picked up. Only tracked files are packaged when this is
# a git checkout (a service tried in place leaves supervise/ and env/ behind). The
# programs are static, so the package depends on nothing.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_ROOT := target/deb/root
DEB_DOC := $(DEB_ROOT)/usr/share/doc/ipctools
deb: all
	rm -rf target/deb
	install -d $(DEB_ROOT)/DEBIAN $(DEB_ROOT)/usr/bin $(DEB_ROOT)/usr/share/man/man1 $(DEB_DOC)/examples
	for p in $(PROGS); do install -m 755 $(REL)/$$p $(DEB_ROOT)/usr/bin/$$p; done
	for m in doc/*.1; do gzip -9n < $$m > $(DEB_ROOT)/usr/share/man/man1/$$(basename $$m).gz; done
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git ls-files -z service; \
	  else find service -type f -print0; fi | tar --null -T - -cf - | tar -xf - -C $(DEB_DOC)/examples
	install -m 644 README.md $(DEB_DOC)/README.md
	install -m 644 LICENSE $(DEB_DOC)/copyright
	chmod -R u+rwX,go+rX,go-w $(DEB_ROOT)
	{ echo "Package: ipctools"; \
	  echo "Version: $(VERSION)"; \
	  echo "Architecture: $(DEB_ARCH)"; \
	  echo "Maintainer: ipctools developers <ipctools@localhost>"; \
	  echo "Installed-Size: $$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)"; \
	  echo "Section: admin"; \
	  echo "Priority: optional"; \
	  echo "Suggests: s6, execline"; \
	  echo "Description: UCSPI chain-loading tools for local services on Unix sockets"; \
	  echo " Small UCSPI-style programs for daemons that listen on Unix domain sockets:"; \
	  echo " drop-in replacements for s6-ipcserver, s6-ipcclient, s6-ipcserver-access,"; \
	  echo " s6-sudo and nosh's local-*-socket-listen, with race-free socket creation."; \
	  echo " Statically linked."; \
	} > $(DEB_ROOT)/DEBIAN/control
	dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) target/ipctools_$(VERSION)_$(DEB_ARCH).deb

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
