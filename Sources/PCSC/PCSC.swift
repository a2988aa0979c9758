#if canImport(CPCSCLite)
import CPCSCLite
let probe = SCARD_S_SUCCESS
#endif
