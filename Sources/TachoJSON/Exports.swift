// RFC 3339 times (`Timestamp`) live in TachoTime with the rest of time; TachoJSON's users
// (the readers, the CLI, tests) get them with the parser, as before.
@_exported import TachoTime
