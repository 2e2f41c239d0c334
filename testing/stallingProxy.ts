import { Effect } from "effect"
import type { Scope } from "effect"
import { connect, createServer, type Socket } from "node:net"

/** A TCP proxy on 127.0.0.1 that forwards to a loopback server until `stall` runs. */
export interface StallingProxy {
  /** Port of the proxy on 127.0.0.1. */
  readonly port: number
  /**
   * Stops forwarding in both directions on every open connection, and keeps new connections open without
   * forwarding them. The peers see a server that accepts connections and never responds, as after
   * `kill -STOP` of a database server.
   */
  readonly stall: Effect.Effect<void>
}

/**
 * Starts a proxy on a free port of 127.0.0.1 that forwards each connection to `targetPort` on 127.0.0.1. Every
 * socket is destroyed and the proxy closed when the scope closes.
 */
export const stallingProxy = (targetPort: number): Effect.Effect<StallingProxy, never, Scope.Scope> =>
  Effect.gen(function* () {
    const sockets = new Set<Socket>()
    let stalled = false
    const track = (socket: Socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => socket.destroy())
    }
    const pairs: Array<readonly [Socket, Socket]> = []

    const server = createServer((client) => {
      track(client)
      if (stalled) {
        client.pause()
        return
      }
      const upstream = connect(targetPort, "127.0.0.1")
      track(upstream)
      client.pipe(upstream)
      upstream.pipe(client)
      pairs.push([client, upstream])
    })

    const port = yield* Effect.acquireRelease(
      Effect.callback<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )

    const stall = Effect.sync(() => {
      stalled = true
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    })
    return { port, stall }
  })
