import Logging
import NIOSSL
import TachoIngest
import TachoSchema
import TachoStore

/// What a `TachoHTTPServer` serves and how (docs/HTTP.md). Every default is stated here.
public struct HTTPServerOptions: Sendable {
    /// The store directory the read API opens snapshots of. Required.
    public var storePath: String
    /// The address to listen on. Default `127.0.0.1`.
    public var host = "127.0.0.1"
    /// The port; 0 lets the system choose one (tests read it from `onRunning`). Default 8086,
    /// InfluxDB's, so its clients find it.
    public var port = 8086
    /// Declared measurements (the config's `[[measurement]]`, else the built-ins): a declared
    /// measurement the store has no rows of yet is known, and answers with its columns and no
    /// row, as `tacho query` does. Default: the built-in declarations.
    public var declarations: [MeasurementDeclaration] = DefaultDeclarations.declarations
    /// Close a connection that sends nothing for this long, in seconds (also a client that
    /// opened a connection and never finished its headers). Default 30.
    public var idleTimeoutSeconds = 30
    /// How long a request's body may take to arrive once its headers have, in seconds: past
    /// it the connection is closed (a client trickling a body cannot hold it; the idle
    /// timeout sees each piece as activity). Default 60.
    public var bodyTimeoutSeconds = 60
    /// The largest result a query answers, in rows: a `limit` above it is refused (400), and a
    /// query without `limit` that would return more ends its streamed body there without the
    /// chunked end (the client sees an incomplete answer, never a silently short one).
    /// Default 10,000,000.
    public var maxResultRows = 10_000_000
    /// The inbox accepted writes go into (the daemon's `[run] inbox`); nil: the server takes
    /// no writes (`POST` answers 404). Default nil.
    public var inboxPath: String?
    /// The daemon's `[line_protocol]` settings: the precision line-protocol bodies are
    /// rewritten to (the daemon reads `.lp` files at it), the vehicle tag, creation of
    /// undeclared measurements. Default: `LineInputOptions()` (ns, `vehicle_id`, create).
    public var lineInput = LineInputOptions()
    /// The largest request body, in bytes; a larger one is refused with 413. Default 32 MiB.
    public var maxBodyBytes = 32 << 20
    /// The most rows (records or points) one write may carry; more is refused with 413.
    /// Default 1,000,000.
    public var maxRowsPerRequest = 1_000_000
    /// The free-space floor of the inbox's file system (the daemon's `[store] min_free`):
    /// below it writes are refused with 503 and `Retry-After`. Default nil (no floor).
    public var minFreeBytes: UInt64?
    /// Called with each accepted write's file name once it is published into the inbox
    /// (`tacho run --listen`: wakes the inbox loop, which takes it at once). Default nil.
    public var onPublished: (@Sendable (String) -> Void)?
    /// The daemon's totals when the server runs inside `tacho run` (`--listen`): `/metrics`
    /// adds the daemon's series (ingest, commits, inbox backlog, disk free). Default nil.
    public var ingestCounters: IngestCounters?
    /// Files, through the store's environment (docs/ARCHITECTURE.md). Default: the system's.
    public var files: any StoreFileSystem = StoreEnvironment.system.files
    /// Device logins and admin tokens (docs/HTTP.md "Auth"). nil: no token is asked for, and
    /// the server refuses to listen on anything but a loopback address. Default nil.
    public var auth: HTTPAuthOptions?
    /// TLS on every connection (`HTTPTLS.serverConfiguration`: the PEM files of `--tls-cert`
    /// and `--tls-key`); nil: plain HTTP. Default nil.
    public var tls: TLSConfiguration?
    /// `https` with TLS, else `http`: for the address a host prints.
    public var scheme: String { tls == nil ? "http" : "https" }
    /// Request and query logging (never a token). Default: label `tacho.http`.
    public var logger = Logger(label: "tacho.http")

    public init(storePath: String) {
        self.storePath = storePath
    }
}
