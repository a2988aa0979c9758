// The JPKI module: the My Number card's JPKI and text-input-support applications.
//
// Not built yet: the card client, its signing key and the `jpki` tool come with the JPKI issue. This file only
// makes the module exist in the package map (DESIGN.md); it offers no API, so nothing here can be mistaken for
// a working card client.
