// The Registration module: businesses, their representatives (代表者) and agents (代理人), the rights matrix,
// certificate bindings, certificate login, the outbox and the stores.
//
// Not built yet: it comes with the Registration issue. This file only makes the module exist in the package map
// (DESIGN.md); it offers no API.
