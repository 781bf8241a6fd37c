// Renders rows as JSON text straight into an OutputFile's buffer. Every constant piece of text
// (per-vehicle prefixes, per-type fragments) is pre-encoded once, so the hot path is memcpy,
// a 24-byte time and one digit per detection.

/// A pre-encoded byte string that lives as long as its `Fragments` owner.
struct Fragment {
    let bytes: UnsafePointer<UInt8>
    let count: Int

    @inline(__always)
    func emit(_ p: inout UnsafeMutablePointer<UInt8>) {
        p.update(from: bytes, count: count)
        p += count
    }
}

final class Fragments {
    private var blocks: [UnsafeMutablePointer<UInt8>] = []

    func make(_ text: String) -> Fragment {
        let utf8 = Array(text.utf8)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, utf8.count))
        p.initialize(from: utf8, count: utf8.count)
        blocks.append(p)
        return Fragment(bytes: UnsafePointer(p), count: utf8.count)
    }

    deinit { for b in blocks { b.deallocate() } }
}

struct JSONWriter {
    enum Kind { case objects, status }

    let pretty: Bool
    private let store = Fragments()
    private var clock = TimeFormatter()
    private var maxIdBytes = 0

    // Per vehicle: text before the time of a detection event / status report.
    private var detectionPrefix: [Fragment] = []
    private var statusPrefix: [Fragment] = []
    // Per object type: nested detection up to its value; flat tail up to its value.
    private var nestedDetection: [Fragment] = []
    private var flatDetection: [Fragment] = []
    private var statusTail: [Fragment] = []
    private let separator: Fragment       // between events
    private let nestedOpen: Fragment      // after the time, before the first detection
    private let nestedBetween: Fragment   // between detections of one event
    private let nestedValueClose: Fragment
    private let nestedClose: Fragment     // after the last detection
    private let flatClose: Fragment
    let objectsHeader: [UInt8], statusHeader: [UInt8], footer: [UInt8]

    init(ids: [String], pretty: Bool) {
        self.pretty = pretty
        let s = store
        // Indentation follows the public fixtures (two spaces per level).
        let (i2, i3, i4, i5) = pretty ? ("    ", "      ", "        ", "          ") : ("", "", "", "")
        let nl = pretty ? "\n" : ""
        let colon = pretty ? ": " : ":"
        for id in ids {
            maxIdBytes = max(maxIdBytes, id.utf8.count)
            let head = "\(i2){\(nl)\(i3)\"vehicle_id\"\(colon)\"\(id)\",\(nl)\(i3)"
            detectionPrefix.append(s.make(head + "\"detection_time\"\(colon)\""))
            statusPrefix.append(s.make(head + "\"report_time\"\(colon)\""))
        }
        for name in ObjectTypes.names {
            nestedDetection.append(s.make(
                "\(i4){\(nl)\(i5)\"object_type\"\(colon)\"\(name)\",\(nl)\(i5)\"object_value\"\(colon)"))
            flatDetection.append(s.make(
                "\",\(nl)\(i3)\"object_type\"\(colon)\"\(name)\",\(nl)\(i3)\"object_value\"\(colon)"))
        }
        for name in Statuses.names {
            statusTail.append(s.make("\",\(nl)\(i3)\"status\"\(colon)\"\(name)\"\(nl)\(i2)}"))
        }
        separator = s.make(",\n")
        nestedOpen = s.make("\",\(nl)\(i3)\"detections\"\(colon)[\(nl)")
        nestedBetween = s.make(",\(nl)")
        nestedValueClose = s.make("\(nl)\(i4)}")
        nestedClose = s.make("\(nl)\(i3)]\(nl)\(i2)}")
        flatClose = s.make("\(nl)\(i2)}")
        if pretty {
            objectsHeader = Array("{\n  \"objects_detection_events\": [\n".utf8)
            statusHeader = Array("{\n  \"vehicle_status\": [\n".utf8)
            footer = Array("\n  ]\n}\n".utf8)
        } else {
            objectsHeader = Array("{\"objects_detection_events\":[\n".utf8)
            statusHeader = Array("{\"vehicle_status\":[\n".utf8)
            footer = Array("\n]}\n".utf8)
        }
    }

    func header(_ kind: Kind) -> [UInt8] { kind == .objects ? objectsHeader : statusHeader }

    /// Upper bound of the bytes one event can take (flat layout, five detections, pretty).
    private var maxEventBytes: Int { 5 * (maxIdBytes + 256) + 64 }

    /// Writes one detection event (nested, or one flat event per detection), preceded by the
    /// event separator unless it is the first of its file. Returns the JSON events written.
    @inline(__always)
    mutating func write(_ e: DetectionEvent, first: Bool, to out: OutputFile) throws -> Int {
        let start = try out.reserve(maxEventBytes)
        var p = start
        if !first { separator.emit(&p) }
        let prefix = detectionPrefix[Int(e.vehicle)]
        let n = Int(e.count)
        if e.flat {
            for i in 0..<n {
                if i > 0 { separator.emit(&p) }
                prefix.emit(&p)
                clock.write(e.time, to: p); p += TimeFormatter.width
                flatDetection[e.type(i)].emit(&p)
                writeValue(e, i, &p)
                flatClose.emit(&p)
            }
        } else {
            prefix.emit(&p)
            clock.write(e.time, to: p); p += TimeFormatter.width
            nestedOpen.emit(&p)
            for i in 0..<n {
                if i > 0 { nestedBetween.emit(&p) }
                nestedDetection[e.type(i)].emit(&p)
                writeValue(e, i, &p)
                nestedValueClose.emit(&p)
            }
            nestedClose.emit(&p)
        }
        out.advance(p - start)
        return e.flat ? n : 1
    }

    /// Detection `i`'s value: one digit (the default profile), or `wide[i]` in decimal.
    @inline(__always)
    private func writeValue(_ e: DetectionEvent, _ i: Int, _ p: inout UnsafeMutablePointer<UInt8>) {
        guard let wide = e.wide else {
            p.pointee = UInt8(48 + e.value(i)); p += 1
            return
        }
        var x = wide[i]
        if x < 0 { p.pointee = 45; p += 1; x = -x }  // '-'; the generator draws no Int64.min
        var digits = 1
        var rest = x / 10
        while rest > 0 { digits += 1; rest /= 10 }
        for k in stride(from: digits - 1, through: 0, by: -1) {
            p[k] = UInt8(48 + x % 10)
            x /= 10
        }
        p += digits
    }

    @inline(__always)
    mutating func write(_ r: StatusReport, first: Bool, to out: OutputFile) throws {
        let start = try out.reserve(maxIdBytes + 256)
        var p = start
        if !first { separator.emit(&p) }
        statusPrefix[Int(r.vehicle)].emit(&p)
        clock.write(r.time, to: p); p += TimeFormatter.width
        statusTail[Int(r.status)].emit(&p)
        out.advance(p - start)
    }
}
