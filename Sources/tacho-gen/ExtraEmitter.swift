// Cuts a time-ordered stream of rendered records into files of one extra kind, stamps each
// file's arrival time (some late), and counts what was written.

import TachoTime

/// One rendered record (no line ending) and what a validating reader makes of it.
struct ExtraRecord {
    var time: Int64      // epoch ms
    var text: String
    var bad = false      // a reader must reject it
    var syntax = false   // line protocol: it breaks the grammar (implies bad)
}

/// How the records of a file are framed.
struct ExtraFraming {
    var prefix: String
    var ext: String
    var header: String
    var separator: String  // between records (JSON) or after each (lines)
    var footer: String
    var lines: Bool        // NDJSON / line protocol: `separator` ends every record
    var crlfShare = 0.0    // share of line files written with CRLF endings

    static func jsonArray(_ prefix: String, key: String) -> ExtraFraming {
        ExtraFraming(prefix: prefix, ext: "json", header: "{\"\(key)\":[\n", separator: ",\n", footer: "\n]}\n", lines: false)
    }
}

struct ExtraEmitter {
    var files: ExtraFileWriter
    var rng: Xoshiro256
    let lateShare: Double

    /// Writes `next()`'s records, `perFile` per file, named after each file's first record.
    mutating func emit(_ framing: ExtraFraming, perFile: Int, next: () -> ExtraRecord?) throws -> ExtraStats {
        var stats = ExtraStats()
        var late = ShareDial(share: lateShare, phase: rng.unit())
        var crlf = ShareDial(share: framing.crlfShare, phase: rng.unit())
        var chunk: [ExtraRecord] = []
        while true {
            chunk.removeAll(keepingCapacity: true)
            while chunk.count < perFile, let r = next() { chunk.append(r) }
            guard let first = chunk.first, let last = chunk.last else { break }
            let newline = framing.lines && crlf.pick() ? "\r\n" : "\n"
            var text = framing.header.replacingNewlines(with: newline)
            for (k, r) in chunk.enumerated() {
                if framing.lines {
                    text += r.text + newline
                } else {
                    if k > 0 { text += framing.separator }
                    text += r.text
                }
                stats.records += 1
                if r.bad { stats.badRecords += 1 }
                if r.syntax { stats.syntaxRejects += 1 }
            }
            text += framing.footer
            var arrival = last.time + 60_000
            if late.pick() {
                arrival += rng.int(in: 3_600_000...6 * 3_600_000)
                stats.lateFiles += 1
            }
            let path = files.path("\(framing.prefix)_\(CivilDate.floorDiv(first.time, 1000))", framing.ext)
            stats.bytes += try files.write(text, to: path, arrival: arrival)
            stats.files += 1
        }
        return stats
    }
}

extension String {
    func replacingNewlines(with newline: String) -> String {
        newline == "\n" ? self : split(separator: "\n", omittingEmptySubsequences: false).joined(separator: newline)
    }
}

/// `YYYYMMDD_HHMMSS` (UTC) of epoch milliseconds, as in dashcam file names.
func compactTime(_ ms: Int64) -> String {
    let day = CivilDate.floorDiv(ms, 86_400_000)
    let (y, m, d) = CivilDate.date(days: day)
    let s = (ms - day * 86_400_000) / 1000
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(y)\(two(Int64(m)))\(two(Int64(d)))_\(two(s / 3600))\(two(s / 60 % 60))\(two(s % 60))"
}
