import Foundation
import TachoJSON
import TachoTestSupport
import Testing
@testable import TachoLineProtocol

/// Reads at most `step` bytes per call, so lines straddle chunks at every offset.
struct TrickleSource: LineProtocolByteSource {
    var inner: LineBytesSource
    let step: Int
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try inner.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(step)))
    }
}

struct FailingSource: LineProtocolByteSource {
    struct Boom: Error, CustomStringConvertible { var description: String { "disk on fire" } }
    var served = false
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if served { throw Boom() }
        served = true
        let text = Array("m v=1\nm v=".utf8)
        buffer.copyBytes(from: text)
        return text.count
    }
}

// A file source from TachoJSON serves this parser through the same requirement.
extension FileDescriptorSource: LineProtocolByteSource {}

@Suite("Line protocol streaming: chunks, limits, sources")
struct LineStreamTests {
    static let sample = """
        # battery packs\r
        battery,vehicle_id=v1,pack=A soc=81.5,temp_c=31i,ok=t,note="a \\"quoted\\" note" 1726293601250000000\r
        \r
        battery,vehicle_id=v2,pack=B soc=7.25e1,temp_c=-3i 1726293601250000001
        broken line here
        can,vehicle_id=v1,bus=0 id=418u,raw="0x1F\\\\AA" 1726293601000000000
        """

    @Test(arguments: [1, 2, 3, 7, 16, 64, 1 << 16])
    func resultsDoNotDependOnChunkBoundaries(step: Int) throws {
        let whole = parseAll(Self.sample)
        let parser = LineProtocolParser(
            source: TrickleSource(inner: LineBytesSource(Self.sample), step: step),
            options: LineProtocolOptions(chunkSize: max(1, step / 2)))
        var got: [Result<LineRecord, LineProtocolError>] = []
        try parser.forEach(point: { got.append(.success(LineRecord($0))) }, rejected: { got.append(.failure($0)) })
        #expect(got.count == 4)
        #expect(got.map { (try? $0.get()) } == whole.map { (try? $0.get()) })
        #expect(got.compactMap { if case .failure(let e) = $0 { e } else { nil } }.map(\.line) == [5])
        #expect(parser.pointCount == 3 && parser.rejectCount == 1 && parser.lineNumber == 6)
    }

    @Test func aLineOverTheLimitIsRejectedAndSkippedWithoutBuffering() throws {
        let long = "m v=\"" + String(repeating: "x", count: 5000) + "\""
        let text = "m v=1\n\(long)\nm v=2\n\(long)"
        for chunk in [1, 10, 100, 8192] {
            let all = parseAll(text, LineProtocolOptions(maxLineBytes: 100, chunkSize: chunk))
            #expect(all.count == 4)
            guard case .failure(let e) = all[1], case .failure(let f) = all[3], case .success(let p) = all[2] else {
                Issue.record("\(all)"); continue
            }
            #expect(e.kind == .lineTooLong && e.line == 2 && e.column == 101)
            #expect(f.kind == .lineTooLong && f.line == 4)
            #expect(p.fields[0].value == .float(2))
        }
    }

    @Test func aSkippedLineNeverReadsAsALineWhateverFollowsIt() {
        // The byte after a skipped line's limit is a CR here: it must not shorten the reject.
        let text = "m v=\"" + String(repeating: "x", count: 95) + "\r\r\r\r\r\r\"\nm v=2\n"
        for chunk in [1, 3, 50, 4096] {
            let all = parseAll(text, LineProtocolOptions(maxLineBytes: 100, chunkSize: chunk))
            #expect(all.count == 2)
            guard case .failure(let e) = all.first, case .success(let p) = all.last else { Issue.record("\(all)"); continue }
            #expect(e.kind == .lineTooLong && p.fields[0].value == .float(2))
        }
    }

    @Test func aLineOfExactlyTheLimitIsParsedAlsoWithCRLF() {
        let line = "m v=" + String(repeating: "1", count: 96)  // 100 bytes
        #expect(line.utf8.count == 100)
        for text in [line, line + "\n", line + "\r\n", line + "\r\nm v=2"] {
            let all = parseAll(text, LineProtocolOptions(maxLineBytes: 100, chunkSize: 7))
            guard case .success = all.first else { Issue.record("\(text.debugDescription): \(all)"); continue }
        }
        guard case .failure(let e) = parseAll(line + "1", LineProtocolOptions(maxLineBytes: 100, chunkSize: 7)).first else {
            Issue.record("101 bytes parsed"); return
        }
        #expect(e.kind == .lineTooLong)
    }

    @Test func aFailingSourceThrowsAfterTheLinesItDelivered() throws {
        let parser = LineProtocolParser(source: FailingSource(), options: LineProtocolOptions(chunkSize: 64))
        var p = LinePoint()
        #expect(try parser.next(into: &p) == .point)
        #expect {
            _ = try parser.next(into: &p)
        } throws: { ($0 as? LineProtocolError)?.kind == .io && "\($0)".contains("disk on fire") }
        #expect { _ = try parser.next(into: &p) } throws: { ($0 as? LineProtocolError)?.kind == .io }
    }

    @Test func readsAFileThroughTachoJSONsFileSource() throws {
        let dir = TempDir("lp")
        let path = dir.path + "/sample.lp"
        try Data(Self.sample.utf8).write(to: URL(fileURLWithPath: path))
        let parser = LineProtocolParser(source: try FileDescriptorSource(path: path), options: LineProtocolOptions(chunkSize: 5))
        var points: [LineRecord] = []
        try parser.forEach(point: { points.append(LineRecord($0)) })
        #expect(points.map(\.measurement) == ["battery", "battery", "can"])
        #expect(points[0].fields[3].value == .string(#"a "quoted" note"#))
        #expect(points[2].fields[1].value == .string(#"0x1F\AA"#))
    }

    @Test func theReusedPointKeepsItsCapacity() throws {
        let text = String(repeating: "battery,vehicle_id=v1,pack=A soc=81.5,temp_c=31i 1\n", count: 100)
        let parser = LineProtocolParser(bytes: Array(text.utf8))
        var p = LinePoint()
        _ = try parser.next(into: &p)
        let capacity = (p.bytes.capacity, p.tags.capacity, p.fields.capacity)
        var n = 1
        while case .point = try parser.next(into: &p) {
            n += 1
            #expect(p.bytes.capacity == capacity.0 && p.tags.capacity == capacity.1 && p.fields.capacity == capacity.2)
        }
        #expect(n == 100)
    }
}
