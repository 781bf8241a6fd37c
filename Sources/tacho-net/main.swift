import TachoCLI

// `tacho` with the network stack linked: `tacho` execs it, with the same arguments, for
// `tacho ship` and `tacho run --ship-to`. Not meant to be run by hand, but it behaves as tacho.
installedNetworkFeatures.withLock { $0 = S3Features() }
Tacho.main()
