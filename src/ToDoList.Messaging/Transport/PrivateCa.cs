using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ToDoList.Messaging.Transport;

/// <summary>
/// Trusting a private CA (<see cref="MessagingOptions.CaFile"/>) for a broker's TLS certificate: the chain must end at
/// that CA and the certificate must name the host the URL names. Validation is never switched off.
/// </summary>
public static class PrivateCa
{
    /// <summary>A validation callback that accepts what the system trusts, or a chain ending at the CA in <paramref name="caFile"/>.</summary>
    public static RemoteCertificateValidationCallback Validator(string caFile)
    {
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(caFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new TransportException($"MessageQueue:CaFile '{caFile}' is not a readable PEM file of CA certificates: {e.Message}", e);
        }

        return (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            // A name that does not match, or no certificate at all, is never accepted.
            if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
        };
    }
}
