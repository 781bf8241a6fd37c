import TachoFormat

/// The store's schema catalog on disk (FORMAT.md §7). Today's stores keep it as generations
/// in `index/` (`catalog-<n>.cat`), each named by the manifest of the commit that wrote it, so
/// a catalog entry and the first rows of its measurement become durable in one manifest
/// switch. Stores written before that keep a root `CATALOG` file (still read while the
/// manifest names no generation); a store with neither holds the built-in measurements.
enum CatalogFile {
    /// The catalog `manifest` names: its generation in `index/`, else the legacy `CATALOG`
    /// file, else the built-ins (also for `manifest` nil: a store not yet created). A damaged
    /// or newer file is an error: measurements cannot be guessed.
    static func read(_ layout: StoreLayout, manifest: Manifest?, fs: any StoreFileSystem) throws -> Catalog {
        if let manifest, !manifest.catalog.isEmpty {
            let path = layout.indexPath(manifest.catalog)
            let bytes = try readFile(path, fs: fs)
            guard bytes.count >= 4, MetadataFile.storedCRC(bytes) == manifest.catalogCRC else {
                throw StoreError(.corrupt, "read catalog", path: path, "not the catalog MANIFEST names (its CRC differs)")
            }
            return try decode(bytes, path: path)
        }
        let bytes: [UInt8]
        do {
            bytes = try readFile(layout.catalog, fs: fs)
        } catch let e as StoreError where e.code == .notFound {
            return .builtIn
        }
        return try decode(bytes, path: layout.catalog)
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> Catalog {
        do {
            return try Catalog.decode(bytes, path: path)
        } catch {
            throw StoreError(.corrupt, "read catalog", path: path, "\(error)")
        }
    }

    /// `stored` with the measurements `ids` as `current` has them (added or grown): what a
    /// commit that writes rows of those measurements stores (FORMAT.md §7 "When the catalog is
    /// written"). Measurements `current` lacks are left as they are.
    static func storing(_ ids: Set<UInt8>, of current: Catalog, into stored: Catalog) -> Catalog {
        var ms = stored.measurements
        for id in ids.sorted() {
            guard let m = current.measurement(id: id), stored.measurement(id: id) != m else { continue }
            ms.removeAll { $0.id == id }
            ms.append(m)
        }
        return Catalog(ms)
    }
}
