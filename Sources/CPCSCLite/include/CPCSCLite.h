#ifndef PROCUREMENT_IDENTITY_CPCSCLITE_H
#define PROCUREMENT_IDENTITY_CPCSCLITE_H
// pcsc-lite's headers include one another as <pcsclite.h> and <wintypes.h>; the forwarding headers beside this
// file resolve those names to <PCSC/...>, so no -I flag (and no pkg-config -pthread warning) is needed.
#include <PCSC/wintypes.h>
#include <PCSC/pcsclite.h>
#include <PCSC/winscard.h>
#include <PCSC/reader.h>

/// SCARD_CTL_CODE(code) as a function (the macro does not import into Swift).
unsigned long pi_scard_ctl_code(unsigned long code);

/// The protocol control information for T=0 and T=1 (copies of g_rgSCardT0Pci / g_rgSCardT1Pci).
SCARD_IO_REQUEST pi_pci_t0(void);
SCARD_IO_REQUEST pi_pci_t1(void);
SCARD_IO_REQUEST pi_pci_raw(void);
#endif
