import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, shown only when stderr is a terminal, the command is
/// not quiet, and there is enough work to be worth it. The bar owns the terminal's last line:
/// `around` erases it before any other output (stdout or stderr, which share the terminal)
/// and draws it again after, and `finish` erases it, so no line is ever written over it.
final class ProgressLine {
    let total: Int
    let enabled: Bool
    let unit: String
    private var done = 0
    private var lastDrawn = -1
    private var visible = false
    /// A bar is on the terminal's last line (whichever ProgressLine drew it): log lines,
    /// written from any thread, erase it first (`eraseForOtherOutput`).
    private static let shown = Atomic<Bool>(false)

    /// Erases the bar if one is drawn (for output that does not go through `around`).
    static func eraseForOtherOutput() {
        guard shown.exchange(false, ordering: .acquiringAndReleasing) else { return }
        printError("\r\u{1B}[K", newline: false)
    }

    init(total: Int, unit: String = "files", quiet: Bool = false) {
        self.total = total
        self.unit = unit
        enabled = !quiet && total >= 10 && isatty(2) != 0
    }

    /// `done` items of `total` are finished: redraws the bar when its percentage changed.
    func update(_ done: Int) {
        self.done = done
        guard enabled else { return }
        let pct = done * 100 / max(total, 1)
        guard pct != lastDrawn || !Self.shown.load(ordering: .acquiring) else { return }
        lastDrawn = pct
        draw()
    }

    /// `done` items are finished, without drawing (the next `around` draws the new count).
    func advance(to done: Int) { self.done = done }

    /// Runs `output` (which prints lines) with the bar erased, then draws the bar (with the
    /// count `advance` set) below what was printed.
    func around<R>(_ output: () throws -> R) rethrows -> R {
        guard enabled else { return try output() }
        if visible { erase() }
        defer {
            fflush(nil)
            lastDrawn = done * 100 / max(total, 1)
            draw()
        }
        return try output()
    }

    /// Erases the bar for good (the summary that follows starts on a clean line).
    func finish() {
        guard enabled, visible else { return }
        erase()
    }

    private func draw() {
        let pct = done * 100 / max(total, 1)
        let width = 30
        let filled = width * min(done, total) / max(total, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        printError("\r\u{1B}[K[\(bar)] \(done)/\(total) \(unit) (\(pct)%)", newline: false)
        visible = true
        Self.shown.store(true, ordering: .releasing)
    }

    private func erase() {
        fflush(nil)
        printError("\r\u{1B}[K", newline: false)
        visible = false
        Self.shown.store(false, ordering: .releasing)
    }
}
