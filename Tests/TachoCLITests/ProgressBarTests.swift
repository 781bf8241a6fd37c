import Foundation
import Testing
import TachoTestSupport

/// The progress bar on a terminal owns one line (issue 19 item 5): it is erased before any
/// other output and at the end, so the per-file lines read whole; off the terminal there is
/// none. Run on a pseudo-terminal by tools/pty-run.
@Suite struct ProgressBarTests {
    /// Twelve distinct detection files (the bar needs ten or more).
    func inbox(_ dir: TempDir) throws -> String {
        let inbox = dir.path + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let text = try String(contentsOfFile: fixtures + "/mobileye-nested/objects_detection_1654462955.json", encoding: .utf8)
        for i in 0..<12 {
            let shifted = text.replacingOccurrences(of: "2022-06-05T21:", with: "2022-06-\(String(format: "%02d", i + 10))T21:")
            try shifted.write(toFile: inbox + "/objects_detection_\(1_654_462_955 + i).json", atomically: true, encoding: .utf8)
        }
        return inbox
    }

    /// What a terminal shows after `bytes`: `\r` returns to column 0, `ESC[K` erases to the
    /// end of the line, other characters overwrite.
    static func screen(_ bytes: String) -> [String] {
        var lines: [String] = []
        for raw in bytes.components(separatedBy: "\n") {
            var line: [Character] = []
            var cursor = 0
            var chars = Array(raw)[...]
            while let c = chars.popFirst() {
                if c == "\r" {
                    cursor = 0
                } else if c == "\u{1B}", chars.first == "[", chars.dropFirst().first == "K" {
                    chars = chars.dropFirst(2)
                    line.removeSubrange(min(cursor, line.count)...)
                } else {
                    if cursor < line.count { line[cursor] = c } else { line.append(c) }
                    cursor += 1
                }
            }
            lines.append(String(line))
        }
        return lines
    }

    @Test func theBarNeverSharesALineWithOutputAndIsGoneAtTheEnd() throws {
        let dir = TempDir()
        let inbox = try inbox(dir)
        let r = try runToCompletion(repoRoot.path + "/tools/pty-run",
                                    ["--stdout-tty", tachoPath, "ingest", "-v", "--commit-per-file", "-s", dir.path + "/s", inbox])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("files ("), "no progress bar drawn: \(r.stdout)")
        let shown = Self.screen(r.stdout)
        let fileLines = shown.filter { $0.contains(".json") }
        #expect(fileLines.count == 12, "\(shown)")
        for l in fileLines {
            #expect(l.hasPrefix(inbox + "/objects_detection_") && l.hasSuffix(" ms") && !l.contains("["), "garbled: \(l)")
        }
        #expect(!shown.contains { $0.contains("files (") }, "the bar stayed on screen: \(shown)")
        // Log lines, also those logged while the bar is drawn (-v: a debug line per commit),
        // start on a line of their own.
        let logLines = shown.filter { $0.contains(" tacho.ingest:") }
        #expect(logLines.count > 12 && logLines.allSatisfy { $0.first?.isNumber == true }, "\(shown)")
    }

    @Test func noBarWhenStderrIsNotATerminalOrWhenQuiet() throws {
        let dir = TempDir()
        let inbox = try inbox(dir)
        let piped = try tacho(["ingest", "--log-level", "error", "-s", dir.path + "/a", inbox])
        #expect(piped.status == 0 && piped.stderr.isEmpty, "\(piped.stderr)")
        let quiet = try runToCompletion(repoRoot.path + "/tools/pty-run", [tachoPath, "ingest", "-q", "-s", dir.path + "/b", inbox])
        #expect(quiet.status == 0 && quiet.stdout.isEmpty, "\(quiet.stdout)")
    }
}
