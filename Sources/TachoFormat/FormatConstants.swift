// Every magic number and version of the on-disk format, in one place.
// See ../../docs/FORMAT.md: each constant below names the section that specifies it.

public enum FormatConstants {
    /// FORMAT.md §2 "Segment file": `TSEG` little-endian at offset 0.
    public static let segmentMagic: UInt32 = 0x4745_5354  // "TSEG"
    /// FORMAT.md §2: the trailer ends with `TSGE`.
    public static let segmentTrailerMagic: UInt32 = 0x4547_5354  // "TSGE"
    /// FORMAT.md §2.1, §6: version of the segment layout the writer writes. Bump on any
    /// byte change. Version 2 added time mode 3 (runs, §2.3.1). Version 3 added patched
    /// packing: time mode 4, int mode 3, and string mode 3, sets per time (§2.7); and column
    /// ids, nullable columns (§2.3.7), bool and string-list columns (§2.3.5, §2.3.6).
    public static let segmentVersion: UInt16 = 3
    /// FORMAT.md §6: every segment version ever written; the reader opens all of them.
    public static let readableSegmentVersions: ClosedRange<UInt16> = 1...3
    /// FORMAT.md §2.4, §7: most columns of a measurement (segment version 3 on; 64 before).
    public static let maxColumns = 1024
    /// FORMAT.md §2.1: header = magic(4) version(2) measurement(1) reserved(1) crc32c(4).
    public static let segmentHeaderSize = 12
    /// FORMAT.md §2.4: trailer = footer_offset(8) footer_len(4) footer_crc(4) version(2) reserved(2) magic(4).
    public static let segmentTrailerSize = 24
    /// FORMAT.md §2.2: block trailer = encoding(1) crc32c(4).
    public static let blockTrailerSize = 5

    /// Reader limits (FORMAT.md §6): a chunk holds at most this many rows and a block
    /// decompresses to at most this many bytes, so a crafted footer cannot make a reader
    /// allocate without bound. Writers stay far below (default 8192 rows per chunk).
    public static let maxChunkRows = 1 << 20
    public static let maxBlockBytes: Int = 64 << 20

    /// FORMAT.md §3 "Manifest": `TMAN`.
    public static let manifestMagic: UInt32 = 0x4E41_4D54  // "TMAN"
    /// Version 2 names the catalog generation the commit was made with (§3.1, §7); a manifest
    /// that names none is still written as version 1, byte for byte as before, and both are read.
    public static let manifestVersion: UInt16 = 2
    /// The manifest version written when no catalog generation is named (§3.1).
    public static let manifestVersionWithoutCatalog: UInt16 = 1
    /// FORMAT.md §4 "Latest-status index": `TLST`.
    public static let latestMagic: UInt32 = 0x5453_4C54  // "TLST"
    /// Version 2 (§4) holds every measurement with a latest column; version 1 (status only) is still read.
    public static let latestVersion: UInt16 = 2
    /// FORMAT.md §7 "Schema catalog": `TCAT`.
    public static let catalogMagic: UInt32 = 0x5441_4354  // "TCAT"
    /// Version 2 adds a partition width to each measurement entry (§7); a catalog in which no
    /// measurement has a width of its own is still written as version 1, byte for byte as
    /// before, and both are read.
    public static let catalogVersion: UInt16 = 2
    /// The catalog version written when no measurement has a partition width of its own (§7).
    public static let catalogVersionWithoutWidths: UInt16 = 1
    /// FORMAT.md §5 "Ingest ledger file": `TLED`.
    public static let ledgerMagic: UInt32 = 0x4445_4C54  // "TLED"
    /// Written by new stores; version 1 (another content hash, same layout) is still read and,
    /// in a store that holds it, still written (`ContentHashAlgorithm`).
    public static let ledgerVersion: UInt16 = 2
}

/// How a block's payload is stored (FORMAT.md §2.2).
public enum BlockCompression: UInt8, Sendable {
    case raw = 0
    case zstd = 1
}
