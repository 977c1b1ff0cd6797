#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A data plane handing its listeners to the one replacing it (an upgrade): the listening sockets themselves
/// cross, with the routes, so the ports never close and no connection is refused.
///
/// The new data plane listens on a hand-over socket and asks the old one, over its control socket, to hand over
/// there. The old one sends its state and sockets, waits for the new one to say it serves them, then stops
/// accepting and lets its open connections finish.
public enum HandOver {
    /// What crosses beside the sockets: the routes, and which socket serves which listener.
    struct Parcel: Codable {
        var state: DataPlaneState
        /// Listener names, in the order of the descriptors.
        var sockets: [String]
    }

    /// The new data plane's byte for "serving them now".
    static let serving: UInt8 = 0x59

    /// Old side: sends `state` with the listening `sockets` to the hand-over socket at `path` and waits (bounded)
    /// for the new data plane to serve them.
    static func give(_ state: DataPlaneState, sockets: [(name: String, fd: Int32)], to path: String) throws {
        let connection = try DescriptorPassing.connect(to: path)
        defer { close(connection) }
        let parcel = Parcel(state: state, sockets: sockets.map(\.name))
        let payload = Array(try JSONEncoder().encode(parcel))
        try DescriptorPassing.send(sockets.map(\.fd), payload: payload, over: connection)
        guard try DescriptorPassing.readByte(from: connection, timeoutMs: 30_000) == serving else {
            throw DescriptorPassing.Failure(message: "the new data plane did not take the listeners over")
        }
    }

    /// New side: a hand-over socket waiting for the old data plane.
    public final class Receiver: Sendable {
        /// Its path, to send the old data plane.
        public let path: String
        private let listener: Int32

        /// Listens at `path`.
        public init(path: String) throws {
            self.path = path
            self.listener = try DescriptorPassing.listen(at: path)
        }

        deinit {
            close(listener)
            unlink(path)
        }

        /// Waits for the old data plane's parcel, restores it into `dataPlane`, and tells the old one it may stop
        /// accepting. Returns what could not be restored.
        public func receive(into dataPlane: DataPlane) async throws -> [String] {
            let listener = self.listener
            let (connection, payload, descriptors) = try await Task.detached {
                let connection = try DescriptorPassing.accept(on: listener, timeoutMs: 30_000)
                do {
                    let (payload, descriptors) = try DescriptorPassing.receive(from: connection, timeoutMs: 30_000)
                    return (connection, payload, descriptors)
                } catch {
                    close(connection)
                    throw error
                }
            }.value
            defer { close(connection) }
            let parcel: Parcel
            do {
                parcel = try JSONDecoder().decode(Parcel.self, from: Data(payload))
            } catch {
                for fd in descriptors { close(fd) }
                throw DescriptorPassing.Failure(message: "the hand-over is not readable: \(error)")
            }
            guard parcel.sockets.count == descriptors.count else {
                for fd in descriptors { close(fd) }
                throw DescriptorPassing.Failure(
                    message: "the hand-over names \(parcel.sockets.count) listeners but carries \(descriptors.count)"
                )
            }
            let sockets = Dictionary(uniqueKeysWithValues: zip(parcel.sockets, descriptors))
            let problems = await dataPlane.restore(parcel.state, sockets: sockets)
            try DescriptorPassing.writeAll([HandOver.serving], to: connection)
            return problems
        }
    }
}
