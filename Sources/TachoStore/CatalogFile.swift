import TachoFormat

/// The store's schema catalog on disk (FORMAT.md §7): `CATALOG`, replaced like MANIFEST
/// (temp file, fsync, rename, fsync the directory). A store without one holds the built-in
/// measurements, so stores written before catalogs existed open unchanged; a writer creates
/// the file only when a declaration adds something to them.
enum CatalogFile {
    /// The catalog of the store at `layout`: the file's, or the built-ins when there is none.
    /// A damaged or newer file is an error: measurements cannot be guessed.
    static func read(_ layout: StoreLayout, fs: any StoreFileSystem) throws -> Catalog {
        let bytes: [UInt8]
        do {
            bytes = try readFile(layout.catalog, fs: fs)
        } catch let e as StoreError where e.code == .notFound {
            return .builtIn
        }
        do {
            return try Catalog.decode(bytes, path: layout.catalog)
        } catch {
            throw StoreError(.corrupt, "read catalog", path: layout.catalog, "\(error)")
        }
    }

    /// Replaces the catalog file with `c`: CATALOG.tmp, fsync, rename, fsync the directory.
    static func write(_ c: Catalog, layout: StoreLayout, fs: any StoreFileSystem) throws {
        try fs.unlink(layout.catalogTemp)
        try StoreWriter.writeNewFile(layout.catalogTemp, c.encode(), fs: fs)
        try fs.rename(layout.catalogTemp, to: layout.catalog)
        try fs.syncDirectory(layout.root)
    }

    /// The catalog a writer opens the store with: the stored one with `declared` reconciled
    /// into it. Throws `CatalogError` for a contradiction (nothing written); writes the file
    /// when the result differs from what is stored.
    static func open(
        declared: [Measurement], layout: StoreLayout, fs: any StoreFileSystem, write: Bool
    ) throws -> Catalog {
        let stored = try read(layout, fs: fs)
        let resolved = try stored.resolving(declared)
        if write && resolved != stored { try Self.write(resolved, layout: layout, fs: fs) }
        return resolved
    }
}
