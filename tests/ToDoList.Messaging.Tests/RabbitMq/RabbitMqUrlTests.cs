using ToDoList.Messaging.RabbitMq;

namespace ToDoList.Messaging.Tests.RabbitMq;

/// <summary>How an <c>amqp://</c> or <c>amqps://</c> URL becomes the client's settings, and what logs see of it.</summary>
public sealed class RabbitMqUrlTests
{
    [Theory]
    [InlineData("amqp://app:s3cret@broker:5673/todo", "broker", 5673, "todo", "app", "s3cret", false)]
    [InlineData("amqp://app:s3cret@broker/", "broker", 5672, "/", "app", "s3cret", false)]
    [InlineData("amqp://broker", "broker", 5672, "/", "guest", "guest", false)]
    [InlineData("amqp://app:p%40ss@broker:5672/%2f", "broker", 5672, "/", "app", "p@ss", false)]
    [InlineData("amqps://app:s3cret@broker.example/prod", "broker.example", 5671, "prod", "app", "s3cret", true)]
    public void Url_sets_host_port_vhost_credentials_and_TLS(string url, string host, int port, string vhost, string user, string password, bool tls)
    {
        var factory = RabbitMqTransport.CreateFactory(TransportUrl.Parse(url), new RabbitMqTransportOptions());

        Assert.Equal(host, factory.HostName);
        Assert.Equal(port, factory.Port);
        Assert.Equal(vhost, factory.VirtualHost);
        Assert.Equal(user, factory.UserName);
        Assert.Equal(password, factory.Password);
        Assert.Equal(tls, factory.Ssl.Enabled);
        if (tls)
        {
            Assert.Equal(host, factory.Ssl.ServerName);
        }

        Assert.True(factory.AutomaticRecoveryEnabled);
        Assert.True(factory.TopologyRecoveryEnabled);
    }

    [Fact]
    public void What_logs_and_errors_show_of_the_URL_has_no_password()
    {
        var transport = new RabbitMqTransport(TransportUrl.Parse("amqps://app:s3cret@broker:5671/prod"));

        Assert.Equal("amqps://broker:5671/prod", transport.SafeUrl);
        Assert.Equal("the client said ***", transport.Redacted("the client said s3cret"));
    }

    [Fact]
    public void Other_schemes_are_refused()
    {
        var error = Assert.Throws<TransportException>(() => new RabbitMqTransport(TransportUrl.Parse("nats://app:s3cret@broker:4222")));

        Assert.DoesNotContain("s3cret", error.Message);
    }

    [Theory]
    [InlineData("events.todo.newitem", "events.todo.newitem")]
    [InlineData("events.todo.*", "events.todo.*")]
    [InlineData("events.>", "events.*.#")]
    [InlineData(">", "*.#")]
    public void Subject_patterns_become_topic_binding_keys(string pattern, string bindingKey) =>
        Assert.Equal(bindingKey, AmqpMessages.BindingKeyOf(pattern));
}
