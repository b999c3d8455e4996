using StackExchange.Redis;

namespace ToDoList.Messaging.Redis;

public sealed partial class RedisTransport
{
    private static readonly RedisValue Same = "same";
    private static readonly RedisValue Own = "own";
    private RedisValue _maxStreamLength;
    private RedisValue _streamPrefix;
    private RedisValue _wakePrefix;

    /// <summary>
    /// One script per message: it appends the message to the stream of every durable group whose subject
    /// matches (returning once Redis holds it there), PUBLISHes it to the subject's channel, and answers a
    /// request nobody received or stored with the no-responders status on its reply channel.
    /// </summary>
    public async ValueTask PublishAsync(Message message, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var database = Database;
        var payload = Envelope.Encode(message);
        var enveloped = Envelope.NeedsEnvelope(message);
        var headerCount = message.HasHeaders ? message.Headers.Count : 0;
        var args = new RedisValue[8 + (enveloped ? 1 : 0) + (headerCount * 2)];
        args[0] = message.Subject;
        args[1] = payload;
        args[2] = message.ReplyTo ?? "";
        args[3] = message.ReplyTo is null ? RedisValue.EmptyString : _noResponders;
        args[4] = _maxStreamLength;
        args[5] = _streamPrefix;
        args[6] = _wakePrefix;
        args[7] = enveloped ? Own : Same;
        if (enveloped)
        {
            args[8] = message.Data;
            var i = 9;
            if (message.HasHeaders)
            {
                foreach (var (name, value) in message.Headers)
                {
                    args[i++] = name;
                    args[i++] = value;
                }
            }
        }

        RedisResult result;
        try
        {
            var evaluation = Scripts.Publish.EvaluateAsync(database, [PatternsKey], args);
            result = await (cancellationToken.CanBeCanceled ? evaluation.WaitAsync(cancellationToken) : evaluation).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.Contains("FULL ", StringComparison.Ordinal))
        {
            var stream = e.Message[(e.Message.IndexOf("FULL ", StringComparison.Ordinal) + 5)..];
            throw new QueueFullException(stream, _options.MaxStreamLength);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw Failure($"The message on '{message.Subject}' may not have been published", e);
        }

        _ = result;
    }
}
