import Foundation

/// Reading only regular files: opening a FIFO blocks until a writer appears and a device
/// can yield bytes forever, so anything else named like an input is refused at once.
public enum RegularFile {
    /// Throws an ``InputError`` naming `path` unless it is a regular file (symbolic links followed).
    public static func check(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno
            switch reason {
            case ENOENT: throw InputError(path, "no such file")
            case EACCES: throw InputError(path, "cannot be read (permission denied)")
            case ENOTDIR: throw InputError(path, "no such file (a part of its path is not a folder)")
            default: throw InputError(path, "cannot be read: \(String(cString: strerror(reason)))")
            }
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw InputError(path, "is a directory, not a file")
        case S_IFIFO: throw InputError(path, "is a named pipe (FIFO), not a regular file")
        case S_IFSOCK: throw InputError(path, "is a socket, not a regular file")
        case S_IFCHR, S_IFBLK: throw InputError(path, "is a device, not a regular file")
        default: throw InputError(path, "is not a regular file")
        }
    }

    /// The bytes of the regular file at `path`; `what` names it in errors ("the playlist").
    public static func contents(_ path: String, what: String = "the file") throws -> Data {
        try check(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(path, "cannot read \(what)")
        }
        return data
    }
}
