import Foundation
import Testing

/// The repository stands on its own (issue 18): the tests read their inputs from inside it, and
/// the contract they and the code cite is docs/SEMANTICS.md, not a document outside the repo.
@Suite struct RepositoryTests {
    /// Text files of the repository's own trees (no build folders, no binary corpora).
    func ownTextFiles() -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for top in ["Sources", "Tests", "tools", "docs", "Benchmarks"] {
            guard let e = fm.enumerator(atPath: repoRoot.path + "/" + top) else { continue }
            while let rel = e.nextObject() as? String {
                if rel.hasPrefix(".build") || rel.contains("/.build") || rel.contains("corpus/") || rel.hasPrefix("golden") || rel.contains("/golden/") { continue }
                let p = repoRoot.path + "/" + top + "/" + rel
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue else { continue }
                out.append(p)
            }
        }
        return out + ["README.md", "Makefile", "Package.swift"].map { repoRoot.path + "/" + $0 }
    }

    @Test func nothingReachesOutsideTheRepository() throws {
        let files = ownTextFiles()
        #expect(files.count > 50)
        let thisFile = URL(fileURLWithPath: #filePath).standardizedFileURL.path
        var offenders: [String] = []
        for p in files where URL(fileURLWithPath: p).standardizedFileURL.path != thisFile {
            guard let data = FileManager.default.contents(atPath: p), !data.contains(0),
                  let text = String(data: data, encoding: .utf8) else { continue }
            for needle in ["shared/fixtures", "../shared"] where text.contains(needle) {
                offenders.append("\(p): \(needle)")
            }
            // The brief is not part of the repository, in any spelling ("BRIEF §1", "brief §1",
            // "the brief's order"); "briefly" is a word like any other.
            if mentionsBrief(text) { offenders.append("\(p): brief") }
        }
        #expect(offenders.isEmpty, "\(offenders)")
        #expect(FileManager.default.fileExists(atPath: repoRoot.path + "/Tests/Fixtures/mobileye-nested/objects_detection_1654462955.json"))
        #expect(FileManager.default.fileExists(atPath: repoRoot.path + "/docs/SEMANTICS.md"))
    }

    /// "brief" as a word of its own, in any case.
    func mentionsBrief(_ text: String) -> Bool {
        let lower = Array(text.lowercased().utf8), word = Array("brief".utf8)
        guard lower.count >= word.count else { return false }
        for i in 0...(lower.count - word.count) where lower[i..<(i + word.count)].elementsEqual(word) {
            let before = i == 0 ? UInt8(ascii: " ") : lower[i - 1]
            let after = i + word.count < lower.count ? lower[i + word.count] : UInt8(ascii: " ")
            func letter(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || c >= 0x80 }
            if !letter(before) && !letter(after) { return true }
        }
        return false
    }
}
