import TachoCLI

// The lean executable: every command, without the network stack. A command line that asks for
// shipping makes it exec `tacho-net` (docs/ARCHITECTURE.md, "Two executables").
Tacho.main()
