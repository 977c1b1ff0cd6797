#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket bound and listening, made here rather than by SwiftNIO so that its descriptor is known: it is what a
/// data plane hands to the one replacing it, with no moment when the port is closed.
enum ListeningSocket {
    /// Why a socket could not be made.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A listening socket on `host:port` (an IP literal or a name resolved once; port 0 binds any free port),
    /// close-on-exec and with `SO_REUSEADDR`.
    static func open(host: String, port: Int, backlog: Int32 = 1024) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let first = found else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(found) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "bind \(host):\(port): \(reason)")
        }
        guard listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "listen \(host):\(port): \(reason)")
        }
        return fd
    }
}
