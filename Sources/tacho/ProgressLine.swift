#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr, shown only when stderr is a terminal and there is
/// enough work to be worth it.
final class ProgressLine {
    let total: Int
    let enabled: Bool
    private var lastDrawn = -1

    init(total: Int) {
        self.total = total
        enabled = total >= 10 && isatty(2) != 0
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let pct = done * 100 / max(total, 1)
        guard pct != lastDrawn else { return }
        lastDrawn = pct
        let width = 30
        let filled = width * done / max(total, 1)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        printError("\r[\(bar)] \(done)/\(total) files (\(pct)%)", newline: false)
    }

    func finish() {
        guard enabled, lastDrawn >= 0 else { return }
        printError("")
    }
}
