import Hummingbird
import NIOPosix
import TachoOutput
import TachoQuery
import TachoStore

/// A range query's answer as pieces of encoded bytes, pulled one at a time: the rows are read
/// and printed only as the client takes them, so memory is one block of rows and one piece
/// (about 64 KiB), whatever the result's size.
///
/// `@unchecked Sendable`: the cursor and printer are single-threaded. `next()` runs on the
/// thread pool, one call at a time: the body writer awaits each call before it makes the next,
/// so each call happens after the previous one ended.
final class RowStream: @unchecked Sendable {
    private let cursor: RowCursor
    private var printer: RowPrinter
    private let collected: Collected
    private var cells: [Cell] = []
    private var finished = false
    /// Rows printed so far.
    private(set) var rows = 0

    private final class Collected {
        var bytes: [UInt8] = []
    }

    static let pieceBytes = 1 << 16

    /// Opens the cursor now: a query the store refuses fails here, before any byte is sent.
    /// More rows than this (nil: no cap) end the body as a failure (`HTTPServerOptions.maxResultRows`).
    private let cap: Int?

    init(_ query: RangeQuery, on snapshot: Snapshot, format: OutputFormat, cap: Int? = nil) throws {
        self.cap = cap
        cursor = try RowCursor(snapshot: snapshot, query: query)
        let collected = Collected()
        self.collected = collected
        printer = RowPrinter(format, columns: QueryRows.columns(of: query.measurement)) { collected.bytes += $0 }
    }

    /// The next piece of the body; nil when everything was handed out.
    func next() throws -> [UInt8]? {
        while !finished && collected.bytes.count < Self.pieceBytes {
            if let b = try cursor.nextBatch() {
                rows += b.count
                if let cap, rows > cap {
                    throw APIError(.contentTooLarge, "the answer has more than \(cap) rows (maxResultRows); narrow it or page with limit and from")
                }
                printer.printBlock(b, cells: &cells)
            } else {
                printer.finish()
                finished = true
            }
        }
        guard !collected.bytes.isEmpty else { return nil }
        defer { collected.bytes.removeAll(keepingCapacity: true) }
        return collected.bytes
    }

    /// The response body: each piece produced on `pool`, written, then the next asked for.
    /// A failure after the first piece cannot change the status any more: the connection is
    /// closed without the chunked body's end, so the client sees an incomplete answer.
    func body(pool: NIOThreadPool) -> ResponseBody {
        ResponseBody { writer in
            while let piece = try await pool.runIfActive({ try self.next() }) {
                try await writer.write(ByteBuffer(bytes: piece))
            }
            try await writer.finish(nil)
        }
    }
}
