namespace ToDoList.Messaging.Tests;

public sealed class TransportUrlTests
{
    [Theory]
    [InlineData("nats://user:secret@host:4222", "nats://user:***@host:4222")]
    [InlineData("redis://:secret@redis:6379/0", "redis://:***@redis:6379/0")]
    [InlineData("amqp://guest:secret@rabbit:5672/", "amqp://guest:***@rabbit:5672/")]
    [InlineData("nats://secret@host:4222", "nats://***@host:4222")]
    public void Password_is_replaced_in_ToString_and_Redact(string url, string expected)
    {
        var parsed = TransportUrl.Parse(url);

        Assert.Equal(expected, parsed.ToString());
        Assert.Equal(expected, TransportUrl.Redact(url));
        Assert.DoesNotContain("secret", parsed.ToString());
        Assert.DoesNotContain("secret", $"{parsed}");
        Assert.Equal(url, parsed.Original);
    }

    [Theory]
    [InlineData("amqp://guest:se@cret@rabbit:5672/", "amqp://guest:***@rabbit:5672/")]
    [InlineData("redis://:se/cr+et=@redis:6379", "redis://:***@redis:6379")]
    public void Password_with_url_characters_in_it_does_not_leak(string url, string expected) =>
        Assert.Equal(expected, TransportUrl.Redact(url));

    [Theory]
    [InlineData("memory://")]
    [InlineData("embedded://")]
    [InlineData("nats://host:4222")]
    [InlineData("redis://localhost:6379/0")]
    [InlineData("amqp://rabbit:5672/%2f")]
    public void Url_without_user_info_is_unchanged(string url)
    {
        Assert.Equal(url, TransportUrl.Parse(url).ToString());
        Assert.Equal(url, TransportUrl.Redact(url));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a url")]
    public void Invalid_url_is_a_TransportException(string url) =>
        Assert.Throws<TransportException>(() => TransportUrl.Parse(url));

    [Fact]
    public void Invalid_url_error_does_not_show_its_password()
    {
        var error = Assert.Throws<TransportException>(() => TransportUrl.Parse("nats://user:secret@ho st:4222"));

        Assert.DoesNotContain("secret", error.Message);
    }

    [Fact]
    public void Scheme_is_read_from_the_url() => Assert.Equal("nats", TransportUrl.Parse("nats://user:secret@host:4222").Scheme);
}
