import CArchive
import Foundation
import MoodCore

/// Unpacks tar archives with libarchive (`CArchive`): ustar, pax, GNU and v7 tar, plain or
/// compressed (gzip, bzip2, xz, zstd, lz4). Regular files and folders are written; links and
/// devices are skipped. Entries that would land outside the target folder (absolute paths,
/// `..`, through a symbolic link, also one already in the folder) are refused; a damaged,
/// truncated or foreign file is an error naming the archive. Only an archive cut exactly
/// between two entries reads as complete (tar has no length or digest); `MTGJamendoFetch`
/// checks each archive's SHA-256 before unpacking it.
public enum Tar {
    /// Unpacks `archive` into `folder`; returns the regular files' paths relative to `folder`.
    @discardableResult
    public static func extract(_ archive: URL, into folder: URL) throws -> [String] {
        guard let reader = archive_read_new(), let writer = archive_write_disk_new() else {
            fatalError("libarchive: out of memory")
        }
        defer { archive_read_free(reader); archive_write_free(writer) }
        func failure(_ handle: OpaquePointer, _ what: String) -> InputError {
            InputError(
                archive.path,
                "\(what) (libarchive: \(archive_error_string(handle).map { String(cString: $0) } ?? "no reason given"))"
            )
        }
        archive_read_support_format_tar(reader)
        archive_read_support_filter_all(reader)
        // Entries are written as temporary files renamed into place; libarchive refuses `..` and
        // writing through symbolic links. Absolute names are refused below, before the prefix.
        archive_write_disk_set_options(
            writer, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SAFE_WRITES)
        guard archive_read_open_filename(reader, archive.path, 1 << 16) == ARCHIVE_OK else {
            throw failure(reader, "not a tar archive, or its first header is damaged")
        }
        try AtomicFile.createFolder(folder, for: folder.path)
        // The real path: libarchive would refuse a target folder reached through a symbolic link.
        let base = URL(fileURLWithPath: folder.path).resolvingSymlinksInPath().path
        var files = [String]()
        var entry: OpaquePointer? = nil
        while true {
            let status = archive_read_next_header(reader, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw failure(reader, "damaged or truncated tar archive")
            }
            var name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            while name.hasPrefix("./") { name.removeFirst(2) }
            guard !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw InputError(archive.path, "refusing entry '\(name)': it points outside the target folder")
            }
            let type = archive_entry_filetype(entry) & fileTypeMask
            let isLink = archive_entry_hardlink(entry) != nil || archive_entry_symlink(entry) != nil
            // Links and devices are skipped.
            guard type == regularFile || type == directory, !isLink, !name.isEmpty else { continue }
            archive_entry_set_pathname(entry, base + "/" + name)
            // Less the umask, as for files MoodDex writes itself.
            archive_entry_set_perm(entry, type == directory ? 0o777 : 0o666)
            guard archive_write_header(writer, entry) >= ARCHIVE_WARN else {
                throw failure(writer, "cannot unpack '\(name)'")
            }
            if type == regularFile {
                var block: UnsafeRawPointer? = nil
                var size = 0
                var offset: Int64 = 0
                while true {
                    let read = archive_read_data_block(reader, &block, &size, &offset)
                    if read == ARCHIVE_EOF { break }
                    guard read >= ARCHIVE_WARN else {
                        throw failure(reader, "damaged or truncated tar archive at '\(name)'")
                    }
                    guard archive_write_data_block(writer, block, size, offset) >= Int(ARCHIVE_WARN) else {
                        throw failure(writer, "cannot write '\(name)'")
                    }
                }
                files.append(name)
            }
            guard archive_write_finish_entry(writer) >= ARCHIVE_WARN else {
                throw failure(writer, "cannot finish '\(name)'")
            }
        }
        return files
    }

    /// libarchive's AE_IFMT, AE_IFREG and AE_IFDIR (the POSIX st_mode file types), which Swift does not import.
    private static let fileTypeMask: mode_t = 0o170000, regularFile: mode_t = 0o100000, directory: mode_t = 0o040000
}
