// The CertificateRenewal module: the lifecycle flows of the manuals (IC card renewal, certificate update,
// power-of-attorney renewal, agent deletion, revocation request, reissue) as state machines a front end drives.
//
// Not built yet: it comes with the lifecycle issue. This file only makes the module exist in the package map
// (DESIGN.md); it offers no API.
