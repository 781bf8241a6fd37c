import Synchronization
import TachoS3
import TachoStore

/// What the ship ledgers of a store (`STORE/ship/*.log`, any target) record as shipped, as
/// (measurement, partition label, seq): the answer to `RetentionEnforcer.shipped`, so age
/// retention keeps a partition until its current content is in the lake. Object names end in
/// `<measurement>/date=…/<box>-<partition label>-<seq>.parquet` (docs/EXPORT.md). Re-read
/// when a ledger's size changed since the last look.
public final class ShippedPartitions: Sendable {
    private let directory: String
    private let fs: any StoreFileSystem
    private struct State {
        var sizes: [String: UInt64] = [:]
        var shipped: Set<String> = []
    }
    private let state = Mutex(State())

    public init(store: String, fs: any StoreFileSystem = StoreEnvironment.system.files) {
        directory = store + "/ship"
        self.fs = fs
    }

    /// Whether some ledger records `measurement`'s partition starting at `partitionStart` with
    /// exactly this newest seq (a later seq means rows arrived after it was shipped).
    public func contains(_ measurement: String, _ partitionStart: Int64, _ seq: UInt64) -> Bool {
        state.withLock { st in
            refresh(&st)
            return st.shipped.contains("\(measurement)/\(StoreLayout.partitionLabel(partitionStart))/\(seq)")
        }
    }

    private func refresh(_ st: inout State) {
        let names = ((try? fs.directoryEntries(directory)) ?? []).map(\.name).filter { $0.hasSuffix(".log") }
        var current: [String: UInt64] = [:]
        for n in names { current[n] = (try? fs.fileStatus(directory + "/" + n, followingLinks: false).size) ?? 0 }
        guard current != st.sizes else { return }
        st.sizes = current
        var set: Set<String> = []
        for n in names {
            guard let ledger = try? ShipLedger(path: directory + "/" + n, readOnly: true) else { continue }
            for key in ledger.shipped.keys {
                let parts = key.split(separator: "/")
                guard parts.count >= 3, parts[parts.count - 2].hasPrefix("date="), parts[parts.count - 1].hasSuffix(".parquet") else { continue }
                // <box>-<label>-<seq>.parquet; the box id may itself contain '-'.
                let file = parts[parts.count - 1].dropLast(".parquet".count).split(separator: "-")
                guard file.count >= 3, UInt64(file[file.count - 1]) != nil else { continue }
                set.insert("\(parts[parts.count - 3])/\(file[file.count - 2])/\(file[file.count - 1])")
            }
        }
        st.shipped = set
    }
}
