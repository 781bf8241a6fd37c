// Cuts the row streams into files: naming, shuffling, duplicate re-delivery, single-file
// streaming, the byte target, progress, and the counts behind the ground-truth summary.

import TachoTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts for one kind of file (objects or status).
struct KindStats {
    var files = 0, duplicateFiles = 0
    var events = 0       // generated events (a flat detection event expands to several JSON events)
    var jsonEvents = 0   // elements written to the top-level array, duplicates included
    var rows = 0         // stored rows written, duplicates included
    var uniqueRows = 0   // rows of the first delivery only
    var bytes: Int64 = 0, primaryBytes: Int64 = 0
}

/// Spreads a share evenly and deterministically over files: of the first n files exactly
/// ⌊phase + n·share⌋ are picked, so small runs still get their share.
struct ShareDial {
    private var accumulator: Double
    private let share: Double

    init(share: Double, phase: Double) { self.share = share; accumulator = phase }

    mutating func pick() -> Bool {
        accumulator += share
        if accumulator >= 1 { accumulator -= 1; return true }
        return false
    }
}

struct Settings {
    var directory: String
    var singleFile: Bool
    var shuffle: Double
    var duplicates: Double
    var targetBytes: Int64?
    var seed: UInt64
}

final class Emitter {
    private let settings: Settings
    private var names = Set<String>()
    private var rng: Xoshiro256
    private let progress = isatty(2) == 1
    private var lastProgress: Int64 = 0
    private let startClock: Int64
    private var writtenBefore: Int64 = 0
    var firstTime = Int64.max, lastTime = Int64.min

    init(settings: Settings) {
        self.settings = settings
        rng = Xoshiro256(seed: settings.seed, stream: 5)
        startClock = monotonicMillis()
    }

    private final class OpenFile {
        let file: OutputFile
        let stem: String
        var first = true
        var events = 0, jsonEvents = 0, rows = 0
        init(file: OutputFile, stem: String) { self.file = file; self.stem = stem }
    }

    /// Writes one time-ordered stream as files of `perFile` events each (or one file).
    /// `write` renders a row and returns (JSON events written, stored rows).
    func emit<Row>(
        prefix: String, header: [UInt8], footer: [UInt8], perFile: Int, emptyTime: Int64,
        stopAtTarget: Bool, next: () -> Row?, time: (Row) -> Int64,
        write: (Row, Bool, OutputFile) throws -> (json: Int, rows: Int)
    ) throws -> KindStats {
        var stats = KindStats()
        var shuffleDial = ShareDial(share: settings.shuffle, phase: rng.unit())
        var duplicateDial = ShareDial(share: settings.duplicates, phase: rng.unit())
        var chunk: [Row] = []
        chunk.reserveCapacity(min(perFile, 1 << 20))
        var open: OpenFile? = nil

        func openFile(_ t: Int64) throws -> OpenFile {
            let stem = uniqueName("\(prefix)_\(CivilDate.floorDiv(t, 1000))")
            let f = OpenFile(file: try OutputFile(path: path(stem)), stem: stem)
            try f.file.append(header)
            return f
        }
        func close(_ f: OpenFile) throws {
            try f.file.append(footer)
            try f.file.close()
            stats.files += 1
            stats.events += f.events; stats.jsonEvents += f.jsonEvents
            stats.rows += f.rows; stats.uniqueRows += f.rows
            stats.bytes += f.file.bytes; stats.primaryBytes += f.file.bytes
            if duplicateDial.pick() {  // re-delivery: byte-identical copy under another name
                stats.bytes += try OutputFile.copy(from: path(f.stem), to: path(uniqueName(f.stem + "_dup")))
                stats.duplicateFiles += 1
                stats.events += f.events; stats.jsonEvents += f.jsonEvents; stats.rows += f.rows
            }
        }

        while true {
            chunk.removeAll(keepingCapacity: true)
            while chunk.count < perFile, let row = next() { chunk.append(row) }
            if chunk.isEmpty { break }
            let first = time(chunk[0])  // streams are time ordered: the chunk's earliest row
            firstTime = min(firstTime, first)
            lastTime = max(lastTime, time(chunk[chunk.count - 1]))
            if shuffleDial.pick() { shuffle(&chunk) }
            let f = try open ?? openFile(first)
            open = f
            for row in chunk {
                let n = try write(row, f.first, f.file)
                f.first = false
                f.jsonEvents += n.json
                f.rows += n.rows
            }
            f.events += chunk.count
            if !settings.singleFile { try close(f); open = nil }
            let written = stats.primaryBytes + (open?.file.bytes ?? 0)
            report(prefix, written, first)
            if stopAtTarget, let target = settings.targetBytes, written >= target { break }
        }
        if settings.singleFile { try close(open ?? openFile(emptyTime)) }
        writtenBefore += stats.bytes
        clearProgress()
        return stats
    }

    private func shuffle<Row>(_ rows: inout [Row]) {
        var i = rows.count - 1
        while i > 0 {
            rows.swapAt(i, Int(rng.below(UInt64(i + 1))))
            i -= 1
        }
    }

    /// `<stem>`, else `<stem>_2`, `<stem>_3`, … (the prefix and timestamp stay in front).
    private func uniqueName(_ stem: String) -> String {
        var candidate = stem
        var n = 1
        while names.contains(candidate) { n += 1; candidate = "\(stem)_\(n)" }
        names.insert(candidate)
        return candidate
    }

    private func path(_ stem: String) -> String { "\(settings.directory)/\(stem).json" }

    // MARK: progress (stderr, only when it is a terminal)

    private func report(_ prefix: String, _ bytes: Int64, _ simTime: Int64) {
        guard progress else { return }
        let now = monotonicMillis()
        guard now - lastProgress >= 250 else { return }
        lastProgress = now
        let total = Double(writtenBefore + bytes) / 1_000_000
        let seconds = max(0.001, Double(now - startClock) / 1000)
        let line = "\r\(prefix): \(Int(Double(bytes) / 1_000_000)) MB at \(TimeFormatter.string(simTime)), "
            + "\(Int(total / seconds)) MB/s   "
        writeStderr(line)
    }

    private func clearProgress() {
        if progress && lastProgress != 0 { writeStderr("\r\u{1B}[K") }
    }
}

func writeStderr(_ text: String) {
    var bytes = Array(text.utf8)
    _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
}

func monotonicMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
