"""The follow-up e-mail's words, written out in every supported language.

Placeholders: {shop} (FAQBOT_SHOP_NAME), {agent} (who replied). A language missing here
falls back to English; the agent's reply itself is already in the shopper's language.
"""

from __future__ import annotations

from typing import Literal

MailKey = Literal["subject", "greeting", "intro", "intro_team", "cta", "footer"]

MAIL_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "subject": "New reply from {shop}",
        "greeting": "Hello,",
        "intro": "{agent} from {shop} replied to your message:",
        "intro_team": "The {shop} team replied to your message:",
        "cta": "Continue the conversation",
        "footer": "You are receiving this e-mail because you left your address in the chat on "
        "our website. To answer, please use the link above.",
    },
    "de": {
        "subject": "Neue Antwort von {shop}",
        "greeting": "Hallo,",
        "intro": "{agent} von {shop} hat auf deine Nachricht geantwortet:",
        "intro_team": "Das Team von {shop} hat auf deine Nachricht geantwortet:",
        "cta": "Zum Gespräch",
        "footer": "Du erhältst diese E-Mail, weil du im Chat auf unserer Website deine Adresse "
        "hinterlassen hast. Um zu antworten, nutze bitte den Link oben.",
    },
    "es": {
        "subject": "Nueva respuesta de {shop}",
        "greeting": "Hola:",
        "intro": "{agent}, de {shop}, ha respondido a tu mensaje:",
        "intro_team": "El equipo de {shop} ha respondido a tu mensaje:",
        "cta": "Continuar la conversación",
        "footer": "Recibes este correo porque dejaste tu dirección en el chat de nuestra web. "
        "Para responder, usa el enlace de arriba.",
    },
    "fr": {
        "subject": "Nouvelle réponse de {shop}",
        "greeting": "Bonjour,",
        "intro": "{agent}, de {shop}, a répondu à votre message :",
        "intro_team": "L'équipe {shop} a répondu à votre message :",
        "cta": "Reprendre la conversation",
        "footer": "Vous recevez cet e-mail parce que vous avez laissé votre adresse dans le chat "
        "de notre site. Pour répondre, utilisez le lien ci-dessus.",
    },
    "it": {
        "subject": "Nuova risposta da {shop}",
        "greeting": "Ciao,",
        "intro": "{agent} di {shop} ha risposto al tuo messaggio:",
        "intro_team": "Il team di {shop} ha risposto al tuo messaggio:",
        "cta": "Continua la conversazione",
        "footer": "Ricevi questa e-mail perché hai lasciato il tuo indirizzo nella chat del "
        "nostro sito. Per rispondere, usa il link qui sopra.",
    },
    "nl": {
        "subject": "Nieuw antwoord van {shop}",
        "greeting": "Hallo,",
        "intro": "{agent} van {shop} heeft op je bericht gereageerd:",
        "intro_team": "Het team van {shop} heeft op je bericht gereageerd:",
        "cta": "Verder met het gesprek",
        "footer": "Je ontvangt deze e-mail omdat je je adres in de chat op onze website hebt "
        "achtergelaten. Gebruik de link hierboven om te antwoorden.",
    },
    "pl": {
        "subject": "Nowa odpowiedź od {shop}",
        "greeting": "Dzień dobry,",
        "intro": "{agent} ({shop}) odpowiada na Twoją wiadomość:",
        "intro_team": "Zespół {shop} odpowiada na Twoją wiadomość:",
        "cta": "Kontynuuj rozmowę",
        "footer": "Otrzymujesz tę wiadomość, ponieważ Twój adres został podany na czacie na "
        "naszej stronie. Aby odpowiedzieć, skorzystaj z linku powyżej.",
    },
    "pt": {
        "subject": "Nova resposta de {shop}",
        "greeting": "Olá,",
        "intro": "{agent} ({shop}) respondeu à sua mensagem:",
        "intro_team": "A equipa {shop} respondeu à sua mensagem:",
        "cta": "Continuar a conversa",
        "footer": "Recebe este e-mail porque deixou o seu endereço no chat do nosso site. "
        "Para responder, use a ligação acima.",
    },
    "zh": {
        "subject": "{shop} 的新回复",
        "greeting": "您好，",
        "intro": "{shop} 的 {agent} 回复了您的消息：",
        "intro_team": "{shop} 团队回复了您的消息：",
        "cta": "继续对话",
        "footer": "您收到此邮件，是因为您在我们网站的聊天中留下了邮箱地址。"
        "如需回复，请使用上方的链接。",
    },
    "ja": {
        "subject": "{shop}から新しい返信があります",
        "greeting": "こんにちは。",
        "intro": "{shop}の{agent}がお客様のメッセージに返信しました：",
        "intro_team": "{shop}のチームがお客様のメッセージに返信しました：",
        "cta": "会話を続ける",
        "footer": "このメールは、当サイトのチャットでメールアドレスをご入力いただいたため"
        "お送りしています。"
        "返信するには上のリンクをご利用ください。",
    },
    "ko": {
        "subject": "{shop}에서 새 답변이 도착했습니다",
        "greeting": "안녕하세요.",
        "intro": "{shop}의 {agent}님이 메시지에 답변했습니다:",
        "intro_team": "{shop} 팀이 메시지에 답변했습니다:",
        "cta": "대화 계속하기",
        "footer": "웹사이트 채팅에서 이메일 주소를 남기셨기 때문에 이 메일을 보내드립니다. "
        "답장하려면 위 링크를 이용해 주세요.",
    },
    "ru": {
        "subject": "Новый ответ от {shop}",
        "greeting": "Здравствуйте!",
        "intro": "Ответ от {agent} ({shop}) на ваше сообщение:",
        "intro_team": "Команда {shop} ответила на ваше сообщение:",
        "cta": "Продолжить разговор",
        "footer": "Вы получили это письмо, потому что оставили свой адрес в чате на нашем сайте. "
        "Чтобы ответить, воспользуйтесь ссылкой выше.",
    },
    "tr": {
        "subject": "{shop}: yeni bir yanıtınız var",
        "greeting": "Merhaba,",
        "intro": "{shop} ekibinden {agent} mesajınızı yanıtladı:",
        "intro_team": "{shop} ekibi mesajınızı yanıtladı:",
        "cta": "Sohbete devam et",
        "footer": "Bu e-postayı, web sitemizdeki sohbette adresinizi bıraktığınız için "
        "alıyorsunuz. Yanıt vermek için lütfen yukarıdaki bağlantıyı kullanın.",
    },
    "sv": {
        "subject": "Nytt svar från {shop}",
        "greeting": "Hej,",
        "intro": "{agent} på {shop} har svarat på ditt meddelande:",
        "intro_team": "Teamet på {shop} har svarat på ditt meddelande:",
        "cta": "Fortsätt samtalet",
        "footer": "Du får det här mejlet eftersom du lämnade din adress i chatten på vår "
        "webbplats. Använd länken ovan för att svara.",
    },
}


def mail_text(key: MailKey, language: str | None, **values: str) -> str:
    """Return one of the mail's texts in ``language`` (English when not written)."""
    table = MAIL_TEXT.get(language or "en") or MAIL_TEXT["en"]
    text = table.get(key) or MAIL_TEXT["en"][key]
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
