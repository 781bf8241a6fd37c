import Logging
import TachoSchema

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
    /// The largest result a query answers, in rows: `limit` above it is lowered to it, and an
    /// answer cut there says so in the `Tacho-Truncated` header. Default 10,000,000.
    public var maxResultRows = 10_000_000
    /// Request and query logging (never a token). Default: label `tacho.http`.
    public var logger = Logger(label: "tacho.http")

    public init(storePath: String) {
        self.storePath = storePath
    }
}
