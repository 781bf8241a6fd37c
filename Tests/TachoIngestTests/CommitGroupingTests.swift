import Testing
import TachoIngest
import TachoTestSupport

/// `CommitGrouping.plan`: the commits `tacho ingest` and `tacho run` make of a list of files.
@Suite struct CommitGroupingTests {
    /// Over random file lists: the units cover every file once, in order; exactly the files
    /// above `streamAbove` are streamed alone; a group respects both limits (a single file may
    /// exceed `maxBytes`); and a group only ends where the next file would break a limit.
    @Test(arguments: 0..<4)
    func plansAreOrderedBoundedAndMaximal(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        for _ in 0..<300 {
            let limits = CommitGrouping(
                maxFiles: Int.random(in: 1...6, using: &rng), maxBytes: UInt64.random(in: 0...400, using: &rng),
                streamAbove: UInt64.random(in: 50...300, using: &rng))
            let sizes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt64.random(in: 0...350, using: &rng) }
            let units = limits.plan(sizes: sizes)
            #expect(units.flatMap { Array($0.files) } == Array(sizes.indices))
            for (k, unit) in units.enumerated() {
                switch unit {
                case .stream(let i):
                    #expect(sizes[i] > limits.streamAbove)
                case .group(let r):
                    #expect(!r.isEmpty && r.count <= limits.maxFiles)
                    #expect(r.allSatisfy { sizes[$0] <= limits.streamAbove })
                    let bytes = r.reduce(0) { $0 + sizes[$1] }
                    #expect(r.count == 1 || bytes <= limits.maxBytes)
                    if k + 1 < units.count, case .group = units[k + 1] {
                        // It stopped because the next file did not fit.
                        #expect(r.count == limits.maxFiles || bytes + sizes[r.upperBound] > limits.maxBytes)
                    }
                }
            }
        }
    }

    @Test func perFileMakesOneCommitPerFile() {
        let units = CommitGrouping.perFile(streamAbove: 100).plan(sizes: [1, 2, 300, 4])
        #expect(units == [.group(0..<1), .group(1..<2), .stream(2), .group(3..<4)])
    }

    @Test func defaultsGroupSmallFilesAndStreamLargeOnes() {
        let mib: UInt64 = 1 << 20
        let units = CommitGrouping().plan(sizes: [3 * mib, 3 * mib, 40 * mib] + Array(repeating: 1, count: 70) + [10 * mib, 10 * mib, 20 * mib])
        // 64 one-byte files, then 6 more joined by the first 10 MiB file; the second does not
        // fit; a 20 MiB file (above the group limit, below streaming) makes a group of its own.
        #expect(units == [.group(0..<2), .stream(2), .group(3..<67), .group(67..<74), .group(74..<75), .group(75..<76)])
    }
}
