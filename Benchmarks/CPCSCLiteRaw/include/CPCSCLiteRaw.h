#ifndef PROCUREMENT_IDENTITY_BENCHMARKS_CPCSCLITERAW_H
#define PROCUREMENT_IDENTITY_BENCHMARKS_CPCSCLITERAW_H
// pcsc-lite's C API for pcsc-benchmark's raw SCardTransmit loop: a copy of the main package's CPCSCLite headers
// (whose target is not a product). pcsc-lite's headers include one another as <pcsclite.h> and <wintypes.h>; the
// forwarding headers beside this file resolve those names to <PCSC/...>, so no -I flag is needed.
#include <PCSC/wintypes.h>
#include <PCSC/pcsclite.h>
#include <PCSC/winscard.h>
#endif
