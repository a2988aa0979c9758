#include "CPCSCLite.h"

unsigned long pi_scard_ctl_code(unsigned long code) { return SCARD_CTL_CODE(code); }
SCARD_IO_REQUEST pi_pci_t0(void) { return *SCARD_PCI_T0; }
SCARD_IO_REQUEST pi_pci_t1(void) { return *SCARD_PCI_T1; }
SCARD_IO_REQUEST pi_pci_raw(void) { return *SCARD_PCI_RAW; }
