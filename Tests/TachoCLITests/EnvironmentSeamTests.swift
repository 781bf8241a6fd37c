import Foundation
import Testing

/// The store's one seam to the outside world (StoreEnvironment.swift): no source file outside
/// the environment's implementation calls the C file, lock, clock or sleep functions itself,
/// and the release `tacho` is built without the fault injector.
@Suite struct EnvironmentSeamTests {
    /// Files allowed to call the C functions directly, and why.
    static let allowed: [String: String] = [
        "Sources/TachoStore/PosixFileSystem.swift": "the environment's file system",
        "Sources/TachoStore/StoreClock.swift": "the environment's clocks and sleep",
        "Sources/TachoFaults/FaultInjectingFileSystem.swift": "the test environment (models a failed fsync's data loss)",
        "Sources/TachoJSON/ByteSource.swift": "JSONParser(path:), the parser library's convenience for tools and tests; ingest opens its inputs through StoreFileSystem.openInput",
        "Sources/TachoSystemd/JournalLogHandler.swift": "fstat of stderr (journald detection), no store path",
        "Sources/TachoSystemd/SystemdNotifier.swift": "watchdog timing, no store path",
        "Sources/TachoCLI/ConfigFile.swift": "reads the operator's tacho.toml",
        "Sources/TachoCLI/CommonOptions.swift": "looks for the operator's /etc/tacho/tacho.toml",
        "Sources/TachoCLI/NetworkFeatures.swift": "looks for the tacho-net executable beside tacho",
        "Sources/TachoParquet/ParquetSink.swift": "writes `tacho export`'s Parquet files (outside the store, or staged in ship/staging)",
        "Sources/TachoExport/Exporter.swift": "creates `tacho export`'s output directories",
        "Sources/TachoS3/ShipLedger.swift": "the ship ledger (docs/SHIPPING.md; its own kill tests) in an export directory or STORE/ship/, never read by the store",
        "Sources/TachoS3/Shipper.swift": "reads the files it uploads",
        "Sources/tacho-gen/OutputFile.swift": "the generator writes its own output files",
        "Sources/tacho-gen/main.swift": "the generator creates its output directory",
        "Sources/tacho-gen/Emitter.swift": "the generator times itself",
    ]

    /// A call of one of these, not as a method (`fs.unlink(`) nor a declaration (`func open(`).
    static let forbidden = try! NSRegularExpression(pattern:
        #"(?:(?<![\w.])|Glibc\.)(unlink|unlinkat|rename|renameat|link|linkat|rmdir|mkdir|mkdirat|open|openat|creat|stat|lstat|fstatat|statvfs|fsync|fdatasync|ftruncate|truncate|flock|access|opendir|realpath|usleep|sleep|nanosleep|clock_gettime|gettimeofday)\(|FileDescriptor\.open\("#)

    /// Every forbidden call in `text`, as "line: code". Comments are skipped.
    static func violations(in text: String) -> [String] {
        var out: [String] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("//") { continue }
            var code = String(line)
            if let r = code.range(of: #"\s//.*$"#, options: .regularExpression) { code.removeSubrange(r) }
            let ns = code as NSString
            for m in forbidden.matches(in: code, range: NSRange(location: 0, length: ns.length)) {
                let before = ns.substring(to: m.range.location).trimmingCharacters(in: .whitespaces)
                if before.hasSuffix("func") { continue }
                out.append("\(i + 1): \(trimmed)")
            }
        }
        return out
    }

    @Test func theCheckFindsWhatItLooksFor() {
        #expect(Self.violations(in: "  guard unlink(path) == 0 else { return }").count == 1)
        #expect(Self.violations(in: "if Glibc.rename(a, b) != 0 {}").count == 1)
        #expect(Self.violations(in: "var st = stat()\nlstat(p, &st)").count == 2)
        #expect(Self.violations(in: "usleep(1_000_000)").count == 1)
        #expect(Self.violations(in: "let fd = try FileDescriptor.open(p, .readOnly)").count == 1)
        #expect(Self.violations(in: "try fs.unlink(path)\nclock.sleep(seconds: 1)\nSnapshot.open(path: p)").isEmpty)
        #expect(Self.violations(in: "    public func rename(_ from: String, to: String) throws {").isEmpty)
        #expect(Self.violations(in: "// calls unlink(path) directly\nx() // then stat(p)").isEmpty)
    }

    /// Issue 18: every unlink, rename, stat, open, fsync, lock and sleep on a store, inbox,
    /// processed/ or rejected/ path goes through the environment.
    @Test func noFileCallsOutsideTheEnvironment() throws {
        let sources = repoRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String } ?? []
        let swift = files.filter { $0.hasSuffix(".swift") }
        #expect(swift.count > 100, "found only \(swift.count) source files under \(sources.path)")
        var found: [String] = []
        for f in swift.sorted() {
            let rel = "Sources/" + f
            guard Self.allowed[rel] == nil else { continue }
            let text = try String(contentsOf: sources.appendingPathComponent(f), encoding: .utf8)
            found += Self.violations(in: text).map { "\(rel):\($0)" }
        }
        #expect(found.isEmpty, "call these through StoreEnvironment (files, clock), not directly:\n\(found.joined(separator: "\n"))")
        for rel in Self.allowed.keys {
            #expect(FileManager.default.fileExists(atPath: repoRoot.appendingPathComponent(rel).path), "allow-list names a missing file: \(rel)")
        }
    }

    /// `tacho` (every ingest, query and daemon start) links no network stack: S3 and its HTTP
    /// client are in `tacho-net`, which `tacho` execs for shipping. Checked on the package graph
    /// and on the built binary's needed libraries.
    @Test func theIngestBinaryLinksNoNetworkStack() throws {
        let r = try runToCompletion(
            "/usr/bin/env", ["swift", "package", "--package-path", repoRoot.path,
                             "--scratch-path", NSTemporaryDirectory() + "tacho-dump-package", "dump-package"])
        try #require(r.status == 0, "swift package dump-package failed: \(r.stderr)")
        let package = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let lean = Self.dependencyClosure(of: "tacho", in: package)
        #expect(lean.contains("TachoCLI") && lean.contains("TachoDaemon"), "\(lean.sorted())")
        for heavy in ["TachoS3", "TachoLake", "AsyncHTTPClient", "NIOCore", "Crypto"] {
            #expect(!lean.contains(heavy), "tacho depends on \(heavy): \(lean.sorted())")
        }
        let net = Self.dependencyClosure(of: "tacho-net", in: package)
        #expect(net.contains("TachoS3") && net.contains("TachoCLI"), "\(net.sorted())")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/nm") {
            let nm = try runToCompletion("/usr/bin/nm", [tachoPath])
            try #require(nm.status == 0, "\(nm.stderr)")
            #expect(nm.stdout.contains("TachoCLI"), "nm shows no TachoCLI symbol: not a tacho binary?")
            for module in ["TachoS3", "AsyncHTTPClient", "7NIOCore"] {
                #expect(!nm.stdout.contains(module), "the tacho binary holds \(module) symbols")
            }
        }
    }

    /// The targets `name` depends on, directly or not, in `swift package dump-package` output.
    static func dependencyClosure(of name: String, in package: [String: Any]) -> Set<String> {
        let targets = (package["targets"] as? [[String: Any]]) ?? []
        var deps: [String: [String]] = [:]
        for t in targets {
            guard let n = t["name"] as? String else { continue }
            deps[n] = ((t["dependencies"] as? [[String: Any]]) ?? []).compactMap { d in
                ((d["byName"] ?? d["target"] ?? d["product"]) as? [Any])?.first as? String
            }
        }
        var seen = Set<String>(), todo = [name]
        while let n = todo.popLast() {
            for d in deps[n] ?? [] where seen.insert(d).inserted { todo.append(d) }
        }
        return seen
    }

    /// The fault injector lives in TachoFaults, which tests link and the shipped `tacho` and
    /// library product do not (Package.swift), and no TachoFaults symbol is in the binary.
    @Test func theReleaseBinaryHasNoFaultInjector() throws {
        let r = try runToCompletion(
            "/usr/bin/env", ["swift", "package", "--package-path", repoRoot.path,
                             "--scratch-path", NSTemporaryDirectory() + "tacho-dump-package", "dump-package"])
        try #require(r.status == 0, "swift package dump-package failed: \(r.stderr)")
        let package = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let closure = Self.dependencyClosure(of: "tacho", in: package)
        #expect(closure.contains("TachoStore") && closure.contains("TachoIngest"), "\(closure)")
        #expect(!closure.contains("TachoFaults"), "tacho depends on TachoFaults: \(closure.sorted())")
        let testOnly = Self.dependencyClosure(of: "TachoStoreTests", in: package)
        #expect(testOnly.contains("TachoFaults"), "the store tests should use the fault injector: \(testOnly.sorted())")
        for product in (package["products"] as? [[String: Any]]) ?? [] {
            let targets = (product["targets"] as? [String]) ?? []
            let all = targets.reduce(into: Set(targets)) { $0.formUnion(Self.dependencyClosure(of: $1, in: package)) }
            #expect(!all.contains("TachoFaults"), "product \(product["name"] ?? "?") ships TachoFaults")
        }
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/nm") {
            let nm = try runToCompletion("/usr/bin/nm", [tachoPath])
            try #require(nm.status == 0, "\(nm.stderr)")
            #expect(nm.stdout.contains("TachoStore"), "nm shows no TachoStore symbol: not a tacho binary?")
            #expect(!nm.stdout.contains("TachoFaults") && !nm.stdout.contains("FaultInjecting"), "the tacho binary holds fault-injector symbols")
        }
    }
}
