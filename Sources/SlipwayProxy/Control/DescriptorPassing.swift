#if canImport(Glibc)
import Glibc
#endif

/// Passes open file descriptors to another process over a Unix socket (`SCM_RIGHTS`), with a payload beside
/// them: how a data plane hands its listening sockets to the one replacing it, so the ports never close.
///
/// Blocking calls on a plain socket, bounded by `poll` timeouts; used once per hand-over, off the event loops.
enum DescriptorPassing {
    /// A hand-over that could not be done.
    struct Failure: Error, CustomStringConvertible {
        var description: String

        init(_ what: String, errno code: Int32 = errno) {
            description = "\(what): \(String(cString: strerror(code)))"
        }

        init(message: String) {
            description = message
        }
    }

    /// The most descriptors one hand-over carries.
    static let maximumDescriptors = 250

    private static let headerSize = MemoryLayout<cmsghdr>.size

    private static func align(_ length: Int) -> Int {
        (length + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1)
    }

    /// A listening Unix socket at `path`, owner-only, replacing a stale file there.
    static func listen(at path: String) throws(Failure) -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket") }
        let previous = umask(0o177)
        defer { umask(previous) }
        guard withAddress(path, { bind(fd, $0, $1) }) == 0, Glibc.listen(fd, 1) == 0 else {
            let failure = Failure("bind \(path)")
            close(fd)
            throw failure
        }
        return fd
    }

    /// Accepts one connection on `listener` within `timeout` milliseconds.
    static func accept(on listener: Int32, timeoutMs: Int32) throws(Failure) -> Int32 {
        try wait(for: listener, events: Int16(POLLIN), timeoutMs: timeoutMs, what: "no data plane connected")
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw Failure("accept") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// Connects to the Unix socket at `path`.
    static func connect(to path: String) throws(Failure) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket") }
        guard withAddress(path, { Glibc.connect(fd, $0, $1) }) == 0 else {
            let failure = Failure("connect \(path)")
            close(fd)
            throw failure
        }
        return fd
    }

    /// Sends `descriptors` with `payload` (any length) over `socket`.
    static func send(_ descriptors: [Int32], payload: [UInt8], over socket: Int32) throws(Failure) {
        guard descriptors.count <= maximumDescriptors else {
            throw Failure(
                message: "\(descriptors.count) descriptors, at most \(maximumDescriptors) go in one hand-over"
            )
        }
        // First the payload's length with the descriptors attached, then the payload itself.
        var length = UInt64(payload.count).bigEndian
        let dataLength = descriptors.count * MemoryLayout<Int32>.size
        var control = [UInt8](repeating: 0, count: headerSize + align(dataLength))
        let sent = withUnsafeMutableBytes(of: &length) { lengthBytes -> Int in
            control.withUnsafeMutableBytes { controlBytes -> Int in
                let header = controlBytes.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                header.pointee.cmsg_len = headerSize + dataLength
                header.pointee.cmsg_level = SOL_SOCKET
                header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                descriptors.withUnsafeBytes { source in
                    (controlBytes.baseAddress! + headerSize).copyMemory(
                        from: source.baseAddress!,
                        byteCount: dataLength
                    )
                }
                var vector = iovec(iov_base: lengthBytes.baseAddress, iov_len: lengthBytes.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = descriptors.isEmpty ? nil : controlBytes.baseAddress
                    message.msg_controllen = descriptors.isEmpty ? 0 : controlBytes.count
                    return sendmsg(socket, &message, Int32(MSG_NOSIGNAL))
                }
            }
        }
        guard sent == MemoryLayout<UInt64>.size else { throw Failure("sendmsg") }
        try writeAll(payload, to: socket)
    }

    /// Receives what ``send(_:payload:over:)`` sent, within `timeoutMs` for each part.
    static func receive(
        from socket: Int32,
        timeoutMs: Int32
    ) throws(Failure) -> (payload: [UInt8], descriptors: [Int32]) {
        try wait(for: socket, events: Int16(POLLIN), timeoutMs: timeoutMs, what: "no hand-over arrived")
        var length: UInt64 = 0
        var control = [UInt8](repeating: 0, count: headerSize + align(maximumDescriptors * MemoryLayout<Int32>.size))
        var descriptors: [Int32] = []
        let received = withUnsafeMutableBytes(of: &length) { lengthBytes -> Int in
            control.withUnsafeMutableBytes { controlBytes -> Int in
                var vector = iovec(iov_base: lengthBytes.baseAddress, iov_len: lengthBytes.count)
                let count = withUnsafeMutablePointer(to: &vector) { vectorPointer -> Int in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBytes.baseAddress
                    message.msg_controllen = controlBytes.count
                    let count = recvmsg(socket, &message, Int32(MSG_CMSG_CLOEXEC))
                    if count > 0, message.msg_controllen >= headerSize {
                        let header = controlBytes.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
                        if header.pointee.cmsg_level == SOL_SOCKET, header.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                            let number = (Int(header.pointee.cmsg_len) - headerSize) / MemoryLayout<Int32>.size
                            let data = (controlBytes.baseAddress! + headerSize).assumingMemoryBound(to: Int32.self)
                            descriptors = (0..<number).map { data[$0] }
                        }
                    }
                    return count
                }
                return count
            }
        }
        guard received == MemoryLayout<UInt64>.size else {
            for fd in descriptors { close(fd) }
            throw received < 0 ? Failure("recvmsg") : Failure(message: "the hand-over ended early")
        }
        let size = Int(UInt64(bigEndian: length))
        guard size <= 64 << 20 else {
            for fd in descriptors { close(fd) }
            throw Failure(message: "a hand-over of \(size) bytes is too large")
        }
        var payload = [UInt8](repeating: 0, count: size)
        var offset = 0
        while offset < size {
            try wait(for: socket, events: Int16(POLLIN), timeoutMs: timeoutMs, what: "the hand-over stalled")
            let count = payload.withUnsafeMutableBytes { read(socket, $0.baseAddress! + offset, size - offset) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                for fd in descriptors { close(fd) }
                throw Failure(message: "the hand-over ended early")
            }
            offset += count
        }
        return (payload, descriptors)
    }

    /// Writes every byte of `bytes`.
    static func writeAll(_ bytes: [UInt8], to socket: Int32) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes {
                Glibc.send(socket, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure("send")
            }
            offset += count
        }
    }

    /// Reads one byte within `timeoutMs`; nil at the end of the stream.
    static func readByte(from socket: Int32, timeoutMs: Int32) throws(Failure) -> UInt8? {
        try wait(for: socket, events: Int16(POLLIN), timeoutMs: timeoutMs, what: "no answer to the hand-over")
        var byte: UInt8 = 0
        let count = read(socket, &byte, 1)
        if count < 0 { throw Failure("read") }
        return count == 0 ? nil : byte
    }

    private static func wait(for fd: Int32, events: Int16, timeoutMs: Int32, what: String) throws(Failure) {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ready = poll(&entry, 1, timeoutMs)
            if ready < 0, errno == EINTR { continue }
            if ready < 0 { throw Failure("poll") }
            if ready == 0 { throw Failure(message: "\(what) within \(timeoutMs) ms") }
            return
        }
    }

    private static func withAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            errno = ENAMETOOLONG
            return -1
        }
        withUnsafeMutableBytes(of: &address.sun_path) { target in
            target.copyBytes(from: bytes)
            target[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}
