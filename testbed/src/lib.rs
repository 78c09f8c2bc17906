//! Test support shared by the workspace's integration tests (a dev-dependency only).
//!
//! - [`privileged`]: the rule for tests that need root or system tools: skip with a printed
//!   reason, or fail when `REQUIRE_PRIVILEGED_TESTS=1` (CI).
//! - [`ipvs_vm`]: runs a command in the IPVS test VM (`ipvs-sys/tests/vm/ipvs-vm.sh`: Debian's
//!   kernel with IPVS under qemu) and checks the suite it ran.
//! - [`example`]: builds an example program, or a package's binary, for a test to run.
//! - [`frr`]: FRR (zebra, bfdd, bgpd) per network namespace and the anycast bed (an ECMP
//!   router, nodes announcing a VIP over BGP, backends, a client).
//! - [`proxy_bed`]: the HTTP proxy test bed (namespaces, backends, load, two proxies).

pub mod example;
pub mod frr;
pub mod ipvs_vm;
pub mod privileged;
pub mod proxy_bed;
