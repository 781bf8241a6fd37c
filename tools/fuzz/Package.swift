// swift-tools-version: 6.1
// libFuzzer targets for Tacho (issue #8). Built and run by tools/fuzz; see its header.
//   fuzz-json     TachoJSON's streaming parser (strict and lenient, differential across chunk sizes)
//   fuzz-segment  TachoFormat's SegmentReader: header, trailer, footer, blocks, every codec
//
// SwiftPM renames an executable's main to <module>_main, so `-parse-as-library` plus libFuzzer's
// own main() does not link; each target's main.swift hands over to LLVMFuzzerRunDriver instead.
import PackageDescription

let package = Package(
    name: "TachoFuzz",
    dependencies: [.package(name: "Tacho", path: "../..")],
    targets: [
        .target(name: "CFuzzer"),
        .executableTarget(
            name: "fuzz-json",
            dependencies: ["CFuzzer", .product(name: "Tacho", package: "Tacho")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "fuzz-segment",
            dependencies: ["CFuzzer", .product(name: "Tacho", package: "Tacho")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
