package spec

// Statements records, for each requirement ID, the proposal's statement it comes from, in this
// project's words, so that the next reading of the proposal against the catalogue is a diff.
// Keyed by ID; every ID of the Catalogue has one (see the catalogue's unit tests).
var Statements = map[string]string{}
