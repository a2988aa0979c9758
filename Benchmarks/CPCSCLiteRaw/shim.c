#include "CPCSCLiteRaw.h"

// A C target needs a source file; the benchmark calls pcsc-lite's own functions.
int pi_benchmark_pcsclite_linked(void) { return SCARD_S_SUCCESS; }
