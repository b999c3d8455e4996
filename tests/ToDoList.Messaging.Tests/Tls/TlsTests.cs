using System.Net;
using System.Net.Sockets;
using System.Text;
using ToDoList.Messaging.Nats;
using ToDoList.Messaging.RabbitMq;
using ToDoList.Messaging.Redis;
using ToDoList.Messaging.Tests.Servers;
using ToDoList.Messaging.Transport;
using ToDoList.TestSupport;

namespace ToDoList.Messaging.Tests.Tls;

/// <summary>
/// TLS to the brokers with certificates a throwaway CA signed: trusted through <see cref="MessagingOptions.CaFile"/>, a
/// message goes through; without it the certificate is refused (validation is on by default), and so is a CA that did
/// not sign it.
/// </summary>
public sealed class TlsTests
{
    [Fact]
    public async Task NATS_over_tls_trusts_the_private_CA_it_is_given_and_nothing_else()
    {
        using var ca = ThrowawayCa.Create();
        using var stranger = ThrowawayCa.Create();
        await using var server = await NatsServer.StartAsync($$"""tls { cert_file: "{{ca.CertFile}}", key_file: "{{ca.KeyFile}}" }""");
        var url = TransportUrl.Parse($"tls://127.0.0.1:{server.Port}");

        await RoundTripAsync(new NatsTransport(url, new NatsTransportOptions { CaFile = ca.CaFile }));
        await RefusedAsync(new NatsTransport(url));
        await RefusedAsync(new NatsTransport(url, new NatsTransportOptions { CaFile = stranger.CaFile }));
    }

    [Fact]
    public async Task Redis_over_rediss_trusts_the_private_CA_it_is_given_and_nothing_else()
    {
        using var ca = ThrowawayCa.Create();
        using var stranger = ThrowawayCa.Create();
        var tlsPort = FreeLoopbackPort();
        await using var server = await RedisServer.StartAsync(
            "--tls-port", tlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tls-cert-file", ca.CertFile,
            "--tls-key-file", ca.KeyFile,
            "--tls-ca-cert-file", ca.CaFile,
            "--tls-auth-clients", "no");
        var url = TransportUrl.Parse($"rediss://127.0.0.1:{tlsPort}");

        await RoundTripAsync(new RedisTransport(url, new RedisTransportOptions { CaFile = ca.CaFile }));
        await RefusedAsync(new RedisTransport(url));
        await RefusedAsync(new RedisTransport(url, new RedisTransportOptions { CaFile = stranger.CaFile }));
    }

    [Fact]
    public async Task RabbitMQ_over_amqps_trusts_the_private_CA_it_is_given_and_nothing_else()
    {
        using var ca = ThrowawayCa.Create();
        using var stranger = ThrowawayCa.Create();
        var tlsPort = FreeLoopbackPort();
        await using var server = await RabbitMqServer.StartAsync($$"""
            listeners.ssl.default = 127.0.0.1:{{tlsPort}}
            ssl_options.cacertfile = {{ca.CaFile}}
            ssl_options.certfile = {{ca.CertFile}}
            ssl_options.keyfile = {{ca.KeyFile}}
            ssl_options.verify = verify_none
            ssl_options.fail_if_no_peer_cert = false
            """);
        // The broker's default user may log in from loopback only: 127.0.0.1 it is, over TLS.
        var url = TransportUrl.Parse($"amqps://guest:guest@127.0.0.1:{tlsPort}/");

        await RoundTripAsync(new RabbitMqTransport(url, new RabbitMqTransportOptions { CaFile = ca.CaFile }));
        await RefusedAsync(new RabbitMqTransport(url));
        await RefusedAsync(new RabbitMqTransport(url, new RabbitMqTransportOptions { CaFile = stranger.CaFile }));
    }

    /// <summary>A durable message and a plain one go through the encrypted connection.</summary>
    private static async Task RoundTripAsync(ITransport transport)
    {
        await using var bus = await TestBus.ConnectAsync(transport);
        var subject = $"events.tls{Nuid.Next()}.item";
        var durable = new Recorder();
        var plain = new Recorder();
        await bus.SubscribeAsync(subject, durable.Handler, new SubscribeOptions { QueueGroup = "tls-savers", Durable = true });
        await bus.SubscribeAsync(subject, plain.Handler);
        await bus.PublishAsync(new Message(subject, Encoding.UTF8.GetBytes("over TLS")));
        await durable.WaitForTextAsync("over TLS");
        await plain.WaitForTextAsync("over TLS");
    }

    private static async Task RefusedAsync(ITransport transport)
    {
        await using var bus = new MessageBus(transport);
        var error = await Assert.ThrowsAsync<TransportException>(() => bus.ConnectAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        // Said plainly: it is the certificate (untrusted root, partial chain), not a lost connection.
        Assert.Contains("certificate", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
