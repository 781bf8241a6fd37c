import Foundation
import Testing
@testable import TachoJSON
#if canImport(Glibc)
import Glibc
#endif

/// Hostile documents (issue #8), small enough for the suite; tools/hostile runs the big ones
/// (a 1 GiB string, 10 M events) through the CLI. Each ends in a clear error, with bounded
/// memory, at every chunk size.
@Suite struct HostileJSONTests {
    func error(_ bytes: [UInt8], chunk: Int = 1 << 18, limits: JSONLimits = .default) -> JSONError? {
        let p = JSONParser(bytes: bytes, options: JSONParserOptions(limits: limits, chunkSize: chunk))
        do {
            while try p.next() != .endOfDocument {}
            return nil
        } catch {
            return error
        }
    }

    @Test func millionDeepNestingStopsAtTheDepthLimit() {
        let doc = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 1_000_000)
        for chunk in [1 << 18, 4096, 7] {
            let e = error(doc, chunk: chunk)
            #expect(e?.kind == .depthLimitExceeded, "\(String(describing: e))")
            #expect(e?.offset == 256 && e?.message.contains("maxDepth") == true, "\(String(describing: e))")
        }
    }

    @Test func numberWithHundredThousandDigitsIsRefused() {
        let doc = Array(#"{"v":"#.utf8) + [UInt8](repeating: UInt8(ascii: "7"), count: 100_000) + Array("}".utf8)
        for chunk in [1 << 18, 64, 3] {
            let e = error(doc, chunk: chunk)
            #expect(e?.kind == .numberLimitExceeded && e?.column == 6, "\(String(describing: e))")
        }
    }

    @Test func overLongStringIsRefusedWithoutBufferingIt() {
        // 4 MiB, four times the default 1 MiB limit, then a control character: the limit is
        // what is reported, at the string's start, whatever the chunk size.
        let doc = Array(#"{"vehicle_id":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20) + Array("\n\"}".utf8)
        for chunk in [1 << 18, 1 << 16, 1000] {
            let e = error(doc, chunk: chunk)
            #expect(e?.kind == .stringLimitExceeded && e?.offset == 14, "chunk \(chunk): \(String(describing: e))")
        }
    }

    @Test func limitIsReportedBeforeLaterDamageAtEveryChunkSize() {
        // Found by tools/fuzz (json): the error depended on where read() split the input.
        var limits = JSONLimits.default
        limits.maxStringBytes = 16
        for tail: [UInt8] in [[0x0A], [0xFF], [0xC3, 0x28]] {
            let doc = Array("\"".utf8) + [UInt8](repeating: 0x61, count: 20) + tail + Array("\"".utf8)
            let ref = error(doc, limits: limits)
            #expect(ref?.kind == .stringLimitExceeded, "\(tail): \(String(describing: ref))")
            for chunk in 1...24 { #expect(error(doc, chunk: chunk, limits: limits) == ref, "tail \(tail) chunk \(chunk)") }
        }
        // At exactly the limit, the damage is reported, at every chunk size too.
        for tail: [UInt8] in [[0x0A], [0xFF], [0xC3, 0x28], [0xE2, 0x82]] {
            let doc = Array("\"".utf8) + [UInt8](repeating: 0x61, count: 16) + tail + Array("\"".utf8)
            let ref = error(doc, limits: limits)
            #expect(ref != nil && ref?.kind != .stringLimitExceeded, "\(tail): \(String(describing: ref))")
            for chunk in 1...24 { #expect(error(doc, chunk: chunk, limits: limits) == ref, "tail \(tail) chunk \(chunk)") }
        }
    }

    @Test func invalidUTF8IsReportedWithItsPosition() {
        for bad: [UInt8] in [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]] {
            let doc = Array("{\n \"vehicle_id\": \"ab".utf8) + bad + Array("\"}".utf8)
            for chunk in [1 << 18, 1, 2, 5] {
                let e = error(doc, chunk: chunk)
                #expect(e?.kind == .invalidUTF8 && e?.line == 2 && e?.column == 19, "\(bad) chunk \(chunk): \(String(describing: e))")
            }
        }
    }

    @Test func rawNULInAStringIsAControlCharacterError() {
        let doc = Array(#"{"vehicle_id":"a"#.utf8) + [0] + Array(#"b"}"#.utf8)
        let e = error(doc)
        #expect(e?.kind == .controlCharacter && e?.column == 17 && e?.message.contains("0x00") == true, "\(String(describing: e))")
    }

    /// Opening a FIFO for reading blocks until a writer appears: the path source refuses it
    /// without opening it in blocking mode (a name can turn into a FIFO after the inbox check).
    @Test func fifoDeviceAndSymlinkPathsAreRefusedWithoutBlocking() throws {
        let dir = NSTemporaryDirectory() + "tacho-hostile-json-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fifo = dir + "/x.json"
        #expect(mkfifo(fifo, 0o600) == 0)
        let real = dir + "/real.json"
        try Data("[]".utf8).write(to: URL(fileURLWithPath: real))
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.json", withDestinationPath: real)
        var cases = [(fifo, "is not a regular file"), (dir + "/link.json", "symbolic link")]
        if getuid() == 0 {
            #expect(mknod(dir + "/dev.json", S_IFCHR | 0o600, makedev(1, 5)) == 0)
            cases.append((dir + "/dev.json", "is not a regular file"))
        }
        for (path, why) in cases {
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var message = ""
            Thread.detachNewThread {
                do {
                    _ = try JSONParser(path: path)
                    message = "opened"
                } catch {
                    message = "\(error)"
                }
                done.signal()
            }
            guard done.wait(timeout: .now() + 5) == .success else {
                Issue.record("opening \(path) blocked")
                // Unblock the thread: a writer for the FIFO.
                let fd = open(path, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
                continue
            }
            #expect(message.contains(why) && message.contains(path), "\(path): \(message)")
        }
        #expect(try JSONParser(path: real).next() == .beginArray)
    }
}

private func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
    dev_t((major << 8) | minor)
}
