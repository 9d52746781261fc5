/* faqbot chat widget.
 *
 * Embed with one tag:
 *   <script src="https://bot.example/widget.js" defer
 *           data-server="https://bot.example"  (default: where this file came from)
 *           data-locale="de"                   (default: the browser's language)
 *           data-market="EU" data-title="Help" data-color="#1e4d40"></script>
 *
 * Everything renders inside a Shadow DOM so the shop's CSS cannot reach it and its CSS cannot
 * reach the shop. Text from the server (answers, agent replies) is only ever put into the page
 * with textContent / createTextNode: the Markdown subset is parsed here and built as DOM nodes,
 * so HTML inside an answer shows as text and never runs.
 */
(() => {
  "use strict";

  if (window.__faqbotWidget) return; // the tag was pasted twice: one widget is enough
  window.__faqbotWidget = true;

  const script = document.currentScript;
  const attr = (name) => (script && script.getAttribute("data-" + name)) || "";

  // ---------------------------------------------------------------- strings
  const STRINGS = {
    en: {
      title: "Customer service",
      subtitle: "Ask in any language",
      greeting: "Hi! I can help with orders, delivery, returns and payment. Ask me anything, in your own language.",
      placeholder: "Type your question…",
      inputLabel: "Your question",
      send: "Send",
      open: "Open chat",
      close: "Close chat",
      human: "Talk to a person",
      humanMessage: "I'd like to talk to a person.",
      helpfulQ: "Was this helpful?",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      thanks: "Thanks for your feedback!",
      offerHuman: "Sorry that didn't help. Would you like to talk to a person?",
      handoff: "A person from our team will reply here soon.",
      didYouMean: "Did you mean one of these?",
      typing: "Typing…",
      offline: "We can't reach the chat service right now. Please check your connection.",
      retry: "Try again",
      error: "Something went wrong. Please try again.",
      tooLong: "That message is too long. Please shorten it.",
      rateLimit: "You're sending messages very quickly. Please wait a moment.",
      machineTranslated: "Machine-translated",
      otherLanguage: "Not yet available in your language, so here it is in {lang}.",
      you: "You",
      bot: "Assistant",
      agent: "Support team",
      notice: "Notice",
      language: "Language",
      unread: "{n} new messages",
      resolved: "Our team has closed this conversation. Write again any time.",
      attach: "Attach photos",
      photoRemove: "Remove photo {name}",
      photoPreview: "Photo: {name}",
      photoDrop: "Drop photos here",
      photoUploading: "Sending photos… {pct}%",
      photos1: "Photo",
      photosN: "{n} photos",
      photoType: "{name} is not a photo we can take: please send JPEG, PNG or WebP.",
      photoTooLarge: "{name} is larger than 10 MB.",
      photoTooMany: "You can send up to 3 photos at a time.",
      photoUnreadable: "{name} could not be read as an image.",
      photoFailed: "The photos could not be sent. Please try again.",
      emailOffer: "In case you leave: we can also send our reply by e-mail.",
      emailLabel: "Your e-mail address",
      emailSave: "Notify me",
      emailNo: "No thanks",
      emailSaved: "We'll e-mail {email} if you're not here when we reply.",
      emailRemove: "Remove",
      emailInvalid: "Please check the e-mail address.",
    },
    de: {
      title: "Kundenservice",
      subtitle: "Frag in jeder Sprache",
      greeting: "Hallo! Ich helfe bei Bestellungen, Versand, Rücksendungen und Zahlung. Frag mich einfach, in deiner Sprache.",
      placeholder: "Deine Frage…",
      inputLabel: "Deine Frage",
      send: "Senden",
      open: "Chat öffnen",
      close: "Chat schließen",
      human: "Mit einer Person sprechen",
      humanMessage: "Ich möchte mit einer Person sprechen.",
      helpfulQ: "War das hilfreich?",
      helpful: "Hilfreich",
      notHelpful: "Nicht hilfreich",
      thanks: "Danke für dein Feedback!",
      offerHuman: "Schade, dass das nicht geholfen hat. Möchtest du mit einer Person sprechen?",
      handoff: "Eine Person aus unserem Team antwortet dir bald hier.",
      didYouMean: "Meintest du eine dieser Fragen?",
      typing: "Schreibt…",
      offline: "Der Chat ist gerade nicht erreichbar. Bitte prüfe deine Verbindung.",
      retry: "Erneut versuchen",
      error: "Etwas ist schiefgelaufen. Bitte versuche es erneut.",
      tooLong: "Die Nachricht ist zu lang. Bitte kürze sie.",
      rateLimit: "Du schreibst sehr schnell. Bitte warte einen Moment.",
      machineTranslated: "Maschinell übersetzt",
      otherLanguage: "Noch nicht in deiner Sprache verfügbar, daher auf {lang}.",
      you: "Du",
      bot: "Assistent",
      agent: "Support-Team",
      notice: "Hinweis",
      language: "Sprache",
      unread: "{n} neue Nachrichten",
      resolved: "Unser Team hat dieses Gespräch beendet. Schreib uns jederzeit wieder.",
      attach: "Fotos anhängen",
      photoRemove: "Foto {name} entfernen",
      photoPreview: "Foto: {name}",
      photoDrop: "Fotos hier ablegen",
      photoUploading: "Fotos werden gesendet… {pct} %",
      photos1: "Foto",
      photosN: "{n} Fotos",
      photoType: "{name} können wir nicht annehmen: bitte JPEG, PNG oder WebP senden.",
      photoTooLarge: "{name} ist größer als 10 MB.",
      photoTooMany: "Du kannst bis zu 3 Fotos auf einmal senden.",
      photoUnreadable: "{name} konnte nicht als Bild gelesen werden.",
      photoFailed: "Die Fotos konnten nicht gesendet werden. Bitte versuche es erneut.",
      emailOffer: "Falls du gehst: Wir können dir unsere Antwort auch per E-Mail schicken.",
      emailLabel: "Deine E-Mail-Adresse",
      emailSave: "Benachrichtigen",
      emailNo: "Nein, danke",
      emailSaved: "Wir schreiben an {email}, falls du nicht da bist, wenn wir antworten.",
      emailRemove: "Entfernen",
      emailInvalid: "Bitte prüfe die E-Mail-Adresse.",
    },
    es: {
      title: "Atención al cliente",
      subtitle: "Pregunta en cualquier idioma",
      greeting: "¡Hola! Te ayudo con pedidos, envíos, devoluciones y pagos. Pregúntame lo que quieras, en tu idioma.",
      placeholder: "Escribe tu pregunta…",
      inputLabel: "Tu pregunta",
      send: "Enviar",
      open: "Abrir chat",
      close: "Cerrar chat",
      human: "Hablar con una persona",
      humanMessage: "Quiero hablar con una persona.",
      helpfulQ: "¿Te ha sido útil?",
      helpful: "Útil",
      notHelpful: "No es útil",
      thanks: "¡Gracias por tu opinión!",
      offerHuman: "Lamentamos que no te haya ayudado. ¿Quieres hablar con una persona?",
      handoff: "Una persona de nuestro equipo te responderá aquí en breve.",
      didYouMean: "¿Querías decir alguna de estas?",
      typing: "Escribiendo…",
      offline: "Ahora mismo no podemos conectar con el chat. Comprueba tu conexión.",
      retry: "Reintentar",
      error: "Algo ha fallado. Inténtalo de nuevo.",
      tooLong: "El mensaje es demasiado largo. Acórtalo, por favor.",
      rateLimit: "Estás enviando mensajes muy rápido. Espera un momento.",
      machineTranslated: "Traducción automática",
      otherLanguage: "Aún no está disponible en tu idioma; aquí la tienes en {lang}.",
      you: "Tú",
      bot: "Asistente",
      agent: "Equipo de soporte",
      notice: "Aviso",
      language: "Idioma",
      unread: "{n} mensajes nuevos",
      resolved: "Nuestro equipo ha cerrado esta conversación. Escríbenos cuando quieras.",
      attach: "Adjuntar fotos",
      photoRemove: "Quitar la foto {name}",
      photoPreview: "Foto: {name}",
      photoDrop: "Suelta las fotos aquí",
      photoUploading: "Enviando fotos… {pct} %",
      photos1: "Foto",
      photosN: "{n} fotos",
      photoType: "No podemos aceptar {name}: envía JPEG, PNG o WebP.",
      photoTooLarge: "{name} ocupa más de 10 MB.",
      photoTooMany: "Puedes enviar hasta 3 fotos a la vez.",
      photoUnreadable: "No se ha podido leer {name} como imagen.",
      photoFailed: "No se han podido enviar las fotos. Inténtalo de nuevo.",
      emailOffer: "Por si te vas: también podemos enviarte la respuesta por correo.",
      emailLabel: "Tu correo electrónico",
      emailSave: "Avisarme",
      emailNo: "No, gracias",
      emailSaved: "Escribiremos a {email} si no estás aquí cuando respondamos.",
      emailRemove: "Quitar",
      emailInvalid: "Revisa la dirección de correo.",
    },
    fr: {
      title: "Service client",
      subtitle: "Posez vos questions dans votre langue",
      greeting: "Bonjour ! Je peux vous aider pour les commandes, la livraison, les retours et le paiement. Posez votre question dans votre langue.",
      placeholder: "Votre question…",
      inputLabel: "Votre question",
      send: "Envoyer",
      open: "Ouvrir le chat",
      close: "Fermer le chat",
      human: "Parler à une personne",
      humanMessage: "Je voudrais parler à une personne.",
      helpfulQ: "Cette réponse vous a-t-elle aidé ?",
      helpful: "Utile",
      notHelpful: "Pas utile",
      thanks: "Merci pour votre avis !",
      offerHuman: "Désolé que cela ne vous ait pas aidé. Voulez-vous parler à une personne ?",
      handoff: "Une personne de notre équipe vous répondra ici sous peu.",
      didYouMean: "Vouliez-vous dire l'une de ces questions ?",
      typing: "En train d'écrire…",
      offline: "Impossible de joindre le service de chat pour le moment. Vérifiez votre connexion.",
      retry: "Réessayer",
      error: "Une erreur s'est produite. Veuillez réessayer.",
      tooLong: "Ce message est trop long. Merci de le raccourcir.",
      rateLimit: "Vous envoyez des messages très vite. Patientez un instant.",
      machineTranslated: "Traduction automatique",
      otherLanguage: "Pas encore disponible dans votre langue, voici la réponse en {lang}.",
      you: "Vous",
      bot: "Assistant",
      agent: "Équipe support",
      notice: "Information",
      language: "Langue",
      unread: "{n} nouveaux messages",
      resolved: "Notre équipe a clôturé cette conversation. Écrivez-nous quand vous voulez.",
      attach: "Joindre des photos",
      photoRemove: "Retirer la photo {name}",
      photoPreview: "Photo : {name}",
      photoDrop: "Déposez les photos ici",
      photoUploading: "Envoi des photos… {pct} %",
      photos1: "Photo",
      photosN: "{n} photos",
      photoType: "Nous ne pouvons pas accepter {name} : envoyez du JPEG, PNG ou WebP.",
      photoTooLarge: "{name} dépasse 10 Mo.",
      photoTooMany: "Vous pouvez envoyer jusqu'à 3 photos à la fois.",
      photoUnreadable: "{name} n'a pas pu être lu comme une image.",
      photoFailed: "Les photos n'ont pas pu être envoyées. Veuillez réessayer.",
      emailOffer: "Si vous partez : nous pouvons aussi vous envoyer notre réponse par e-mail.",
      emailLabel: "Votre adresse e-mail",
      emailSave: "Me prévenir",
      emailNo: "Non merci",
      emailSaved: "Nous écrirons à {email} si vous n'êtes pas là quand nous répondrons.",
      emailRemove: "Retirer",
      emailInvalid: "Veuillez vérifier l'adresse e-mail.",
    },
    it: {
      title: "Servizio clienti",
      subtitle: "Chiedi in qualsiasi lingua",
      greeting: "Ciao! Posso aiutarti con ordini, spedizioni, resi e pagamenti. Chiedimi pure, nella tua lingua.",
      placeholder: "Scrivi la tua domanda…",
      inputLabel: "La tua domanda",
      send: "Invia",
      open: "Apri la chat",
      close: "Chiudi la chat",
      human: "Parla con una persona",
      humanMessage: "Vorrei parlare con una persona.",
      helpfulQ: "Ti è stato utile?",
      helpful: "Utile",
      notHelpful: "Non utile",
      thanks: "Grazie per il tuo feedback!",
      offerHuman: "Ci dispiace che non ti abbia aiutato. Vuoi parlare con una persona?",
      handoff: "Una persona del nostro team ti risponderà qui a breve.",
      didYouMean: "Intendevi una di queste?",
      typing: "Sta scrivendo…",
      offline: "Al momento non riusciamo a raggiungere la chat. Controlla la connessione.",
      retry: "Riprova",
      error: "Qualcosa è andato storto. Riprova.",
      tooLong: "Il messaggio è troppo lungo. Accorcialo, per favore.",
      rateLimit: "Stai inviando messaggi molto velocemente. Attendi un momento.",
      machineTranslated: "Traduzione automatica",
      otherLanguage: "Non ancora disponibile nella tua lingua, ecco la risposta in {lang}.",
      you: "Tu",
      bot: "Assistente",
      agent: "Team di assistenza",
      notice: "Avviso",
      language: "Lingua",
      unread: "{n} nuovi messaggi",
      resolved: "Il nostro team ha chiuso questa conversazione. Scrivici quando vuoi.",
      attach: "Allega foto",
      photoRemove: "Rimuovi la foto {name}",
      photoPreview: "Foto: {name}",
      photoDrop: "Trascina qui le foto",
      photoUploading: "Invio delle foto… {pct}%",
      photos1: "Foto",
      photosN: "{n} foto",
      photoType: "Non possiamo accettare {name}: invia JPEG, PNG o WebP.",
      photoTooLarge: "{name} supera i 10 MB.",
      photoTooMany: "Puoi inviare fino a 3 foto alla volta.",
      photoUnreadable: "Non è stato possibile leggere {name} come immagine.",
      photoFailed: "Non è stato possibile inviare le foto. Riprova.",
      emailOffer: "Nel caso te ne vada: possiamo inviarti la risposta anche via e-mail.",
      emailLabel: "Il tuo indirizzo e-mail",
      emailSave: "Avvisami",
      emailNo: "No, grazie",
      emailSaved: "Scriveremo a {email} se non ci sei quando rispondiamo.",
      emailRemove: "Rimuovi",
      emailInvalid: "Controlla l'indirizzo e-mail.",
    },
    nl: {
      title: "Klantenservice",
      subtitle: "Vraag het in elke taal",
      greeting: "Hoi! Ik help je met bestellingen, verzending, retouren en betalen. Stel je vraag gewoon in je eigen taal.",
      placeholder: "Typ je vraag…",
      inputLabel: "Je vraag",
      send: "Versturen",
      open: "Chat openen",
      close: "Chat sluiten",
      human: "Met een medewerker praten",
      humanMessage: "Ik wil graag met een medewerker praten.",
      helpfulQ: "Was dit nuttig?",
      helpful: "Nuttig",
      notHelpful: "Niet nuttig",
      thanks: "Bedankt voor je feedback!",
      offerHuman: "Jammer dat dit niet hielp. Wil je met een medewerker praten?",
      handoff: "Een medewerker van ons team antwoordt je hier binnenkort.",
      didYouMean: "Bedoelde je een van deze vragen?",
      typing: "Aan het typen…",
      offline: "We kunnen de chat nu niet bereiken. Controleer je verbinding.",
      retry: "Opnieuw proberen",
      error: "Er ging iets mis. Probeer het opnieuw.",
      tooLong: "Dit bericht is te lang. Maak het korter.",
      rateLimit: "Je stuurt heel snel berichten. Wacht even.",
      machineTranslated: "Automatisch vertaald",
      otherLanguage: "Nog niet beschikbaar in jouw taal, daarom in het {lang}.",
      you: "Jij",
      bot: "Assistent",
      agent: "Klantenservice-team",
      notice: "Melding",
      language: "Taal",
      unread: "{n} nieuwe berichten",
      resolved: "Ons team heeft dit gesprek gesloten. Schrijf ons gerust opnieuw.",
      attach: "Foto's toevoegen",
      photoRemove: "Foto {name} verwijderen",
      photoPreview: "Foto: {name}",
      photoDrop: "Zet foto's hier neer",
      photoUploading: "Foto's versturen… {pct}%",
      photos1: "Foto",
      photosN: "{n} foto's",
      photoType: "{name} kunnen we niet aannemen: stuur JPEG, PNG of WebP.",
      photoTooLarge: "{name} is groter dan 10 MB.",
      photoTooMany: "Je kunt maximaal 3 foto's tegelijk sturen.",
      photoUnreadable: "{name} kon niet als afbeelding worden gelezen.",
      photoFailed: "De foto's konden niet worden verstuurd. Probeer het opnieuw.",
      emailOffer: "Voor als je weggaat: we kunnen ons antwoord ook per e-mail sturen.",
      emailLabel: "Je e-mailadres",
      emailSave: "Laat het me weten",
      emailNo: "Nee, bedankt",
      emailSaved: "We mailen naar {email} als je er niet bent wanneer we antwoorden.",
      emailRemove: "Verwijderen",
      emailInvalid: "Controleer het e-mailadres.",
    },
    pl: {
      title: "Obsługa klienta",
      subtitle: "Pytaj w dowolnym języku",
      greeting: "Cześć! Pomogę w sprawie zamówień, dostawy, zwrotów i płatności. Zadaj pytanie w swoim języku.",
      placeholder: "Wpisz pytanie…",
      inputLabel: "Twoje pytanie",
      send: "Wyślij",
      open: "Otwórz czat",
      close: "Zamknij czat",
      human: "Porozmawiaj z konsultantem",
      humanMessage: "Chcę porozmawiać z konsultantem.",
      helpfulQ: "Czy to było pomocne?",
      helpful: "Pomocne",
      notHelpful: "Niepomocne",
      thanks: "Dziękujemy za opinię!",
      offerHuman: "Przykro nam, że to nie pomogło. Chcesz porozmawiać z konsultantem?",
      handoff: "Osoba z naszego zespołu wkrótce odpowie tutaj.",
      didYouMean: "Czy chodziło o jedno z tych pytań?",
      typing: "Pisze…",
      offline: "Nie możemy teraz połączyć się z czatem. Sprawdź połączenie.",
      retry: "Spróbuj ponownie",
      error: "Coś poszło nie tak. Spróbuj ponownie.",
      tooLong: "Wiadomość jest za długa. Skróć ją, proszę.",
      rateLimit: "Wysyłasz wiadomości bardzo szybko. Poczekaj chwilę.",
      machineTranslated: "Tłumaczenie maszynowe",
      otherLanguage: "Jeszcze niedostępne w Twoim języku, więc podajemy w języku: {lang}.",
      you: "Ty",
      bot: "Asystent",
      agent: "Zespół obsługi",
      notice: "Informacja",
      language: "Język",
      unread: "Nowe wiadomości: {n}",
      resolved: "Nasz zespół zamknął tę rozmowę. Napisz do nas w każdej chwili.",
      attach: "Dołącz zdjęcia",
      photoRemove: "Usuń zdjęcie {name}",
      photoPreview: "Zdjęcie: {name}",
      photoDrop: "Upuść zdjęcia tutaj",
      photoUploading: "Wysyłanie zdjęć… {pct}%",
      photos1: "Zdjęcie",
      photosN: "Zdjęcia: {n}",
      photoType: "Nie możemy przyjąć pliku {name}: wyślij JPEG, PNG lub WebP.",
      photoTooLarge: "Plik {name} ma ponad 10 MB.",
      photoTooMany: "Możesz wysłać maksymalnie 3 zdjęcia naraz.",
      photoUnreadable: "Nie udało się odczytać pliku {name} jako obrazu.",
      photoFailed: "Nie udało się wysłać zdjęć. Spróbuj ponownie.",
      emailOffer: "Gdyby trzeba było wyjść ze strony: możemy też wysłać odpowiedź e-mailem.",
      emailLabel: "Twój adres e-mail",
      emailSave: "Powiadom mnie",
      emailNo: "Nie, dziękuję",
      emailSaved: "Napiszemy na {email}, jeśli nie będzie Cię tutaj, gdy odpowiemy.",
      emailRemove: "Usuń",
      emailInvalid: "Sprawdź adres e-mail.",
    },
    pt: {
      title: "Apoio ao cliente",
      subtitle: "Pergunte em qualquer idioma",
      greeting: "Olá! Posso ajudar com encomendas, entregas, devoluções e pagamentos. Pergunte o que quiser, no seu idioma.",
      placeholder: "Escreva a sua pergunta…",
      inputLabel: "A sua pergunta",
      send: "Enviar",
      open: "Abrir chat",
      close: "Fechar chat",
      human: "Falar com uma pessoa",
      humanMessage: "Gostaria de falar com uma pessoa.",
      helpfulQ: "Isto foi útil?",
      helpful: "Útil",
      notHelpful: "Não foi útil",
      thanks: "Obrigado pelo seu feedback!",
      offerHuman: "Lamentamos que não tenha ajudado. Quer falar com uma pessoa?",
      handoff: "Uma pessoa da nossa equipa vai responder-lhe aqui em breve.",
      didYouMean: "Quis dizer uma destas?",
      typing: "A escrever…",
      offline: "Não conseguimos ligar ao chat neste momento. Verifique a sua ligação.",
      retry: "Tentar novamente",
      error: "Algo correu mal. Tente novamente.",
      tooLong: "A mensagem é demasiado longa. Encurte-a, por favor.",
      rateLimit: "Está a enviar mensagens muito depressa. Aguarde um momento.",
      machineTranslated: "Tradução automática",
      otherLanguage: "Ainda não disponível no seu idioma, por isso aqui está em {lang}.",
      you: "Você",
      bot: "Assistente",
      agent: "Equipa de apoio",
      notice: "Aviso",
      language: "Idioma",
      unread: "{n} mensagens novas",
      resolved: "A nossa equipa encerrou esta conversa. Escreva-nos quando quiser.",
      attach: "Anexar fotos",
      photoRemove: "Remover a foto {name}",
      photoPreview: "Foto: {name}",
      photoDrop: "Largue as fotos aqui",
      photoUploading: "A enviar fotos… {pct}%",
      photos1: "Foto",
      photosN: "{n} fotos",
      photoType: "Não podemos aceitar {name}: envie JPEG, PNG ou WebP.",
      photoTooLarge: "{name} tem mais de 10 MB.",
      photoTooMany: "Pode enviar até 3 fotos de cada vez.",
      photoUnreadable: "Não foi possível ler {name} como imagem.",
      photoFailed: "Não foi possível enviar as fotos. Tente novamente.",
      emailOffer: "Caso saia: também podemos enviar a nossa resposta por e-mail.",
      emailLabel: "O seu endereço de e-mail",
      emailSave: "Avisar-me",
      emailNo: "Não, obrigado",
      emailSaved: "Escreveremos para {email} se não estiver aqui quando respondermos.",
      emailRemove: "Remover",
      emailInvalid: "Verifique o endereço de e-mail.",
    },
    zh: {
      title: "客户服务",
      subtitle: "支持任何语言提问",
      greeting: "您好！我可以帮您解答订单、配送、退货和付款方面的问题。请用您习惯的语言提问。",
      placeholder: "输入您的问题…",
      inputLabel: "您的问题",
      send: "发送",
      open: "打开聊天",
      close: "关闭聊天",
      human: "联系人工客服",
      humanMessage: "我想联系人工客服。",
      helpfulQ: "这个回答有帮助吗？",
      helpful: "有帮助",
      notHelpful: "没有帮助",
      thanks: "感谢您的反馈！",
      offerHuman: "很抱歉没能帮到您。需要联系人工客服吗？",
      handoff: "我们的客服人员很快会在这里回复您。",
      didYouMean: "您是想问以下问题吗？",
      typing: "正在输入…",
      offline: "暂时无法连接聊天服务，请检查您的网络连接。",
      retry: "重试",
      error: "出了点问题，请重试。",
      tooLong: "消息太长，请缩短后再发送。",
      rateLimit: "您发送消息太快了，请稍等片刻。",
      machineTranslated: "机器翻译",
      otherLanguage: "暂无您所用语言的版本，以下为{lang}内容。",
      you: "您",
      bot: "智能助手",
      agent: "客服团队",
      notice: "提示",
      language: "语言",
      unread: "{n} 条新消息",
      resolved: "我们的客服已结束本次对话。如有需要，欢迎随时留言。",
      attach: "添加照片",
      photoRemove: "移除照片 {name}",
      photoPreview: "照片：{name}",
      photoDrop: "将照片拖放到这里",
      photoUploading: "正在发送照片… {pct}%",
      photos1: "照片",
      photosN: "{n} 张照片",
      photoType: "无法接收 {name}：请发送 JPEG、PNG 或 WebP 格式。",
      photoTooLarge: "{name} 超过 10 MB。",
      photoTooMany: "每次最多可发送 3 张照片。",
      photoUnreadable: "无法将 {name} 读取为图片。",
      photoFailed: "照片发送失败，请重试。",
      emailOffer: "以防您离开：我们也可以通过电子邮件发送回复。",
      emailLabel: "您的电子邮箱",
      emailSave: "通知我",
      emailNo: "不用了",
      emailSaved: "如果我们回复时您不在，我们会发送邮件至 {email}。",
      emailRemove: "移除",
      emailInvalid: "请检查电子邮箱地址。",
    },
    ja: {
      title: "カスタマーサービス",
      subtitle: "どの言語でもご質問いただけます",
      greeting: "こんにちは！ご注文、配送、返品、お支払いについてお手伝いします。お好きな言語でご質問ください。",
      placeholder: "ご質問を入力してください…",
      inputLabel: "ご質問",
      send: "送信",
      open: "チャットを開く",
      close: "チャットを閉じる",
      human: "担当者と話す",
      humanMessage: "担当者と話したいです。",
      helpfulQ: "この回答は役に立ちましたか？",
      helpful: "役に立った",
      notHelpful: "役に立たなかった",
      thanks: "フィードバックありがとうございます！",
      offerHuman: "お役に立てず申し訳ありません。担当者とお話しになりますか？",
      handoff: "まもなく担当者がこちらで返信いたします。",
      didYouMean: "もしかして、こちらのご質問ですか？",
      typing: "入力中…",
      offline: "現在チャットサービスに接続できません。通信環境をご確認ください。",
      retry: "再試行",
      error: "問題が発生しました。もう一度お試しください。",
      tooLong: "メッセージが長すぎます。短くしてください。",
      rateLimit: "送信が速すぎます。少しお待ちください。",
      machineTranslated: "機械翻訳",
      otherLanguage: "お客様の言語ではまだご用意がないため、{lang}で表示しています。",
      you: "あなた",
      bot: "アシスタント",
      agent: "サポートチーム",
      notice: "お知らせ",
      language: "言語",
      unread: "新着メッセージ {n} 件",
      resolved: "担当者がこの会話を終了しました。いつでもまたご連絡ください。",
      attach: "写真を添付",
      photoRemove: "写真 {name} を削除",
      photoPreview: "写真：{name}",
      photoDrop: "ここに写真をドロップ",
      photoUploading: "写真を送信中… {pct}%",
      photos1: "写真",
      photosN: "写真 {n} 枚",
      photoType: "{name} は受け付けられません。JPEG、PNG、WebP を送ってください。",
      photoTooLarge: "{name} は 10 MB を超えています。",
      photoTooMany: "一度に送れる写真は 3 枚までです。",
      photoUnreadable: "{name} を画像として読み込めませんでした。",
      photoFailed: "写真を送信できませんでした。もう一度お試しください。",
      emailOffer: "ページを離れる場合に備えて、返信をメールでもお送りできます。",
      emailLabel: "メールアドレス",
      emailSave: "通知を受け取る",
      emailNo: "結構です",
      emailSaved: "返信時にご不在の場合は {email} にメールでお知らせします。",
      emailRemove: "削除",
      emailInvalid: "メールアドレスをご確認ください。",
    },
    ko: {
      title: "고객 센터",
      subtitle: "어떤 언어로든 물어보세요",
      greeting: "안녕하세요! 주문, 배송, 반품, 결제에 대해 도와드릴게요. 편한 언어로 질문해 주세요.",
      placeholder: "질문을 입력하세요…",
      inputLabel: "질문",
      send: "보내기",
      open: "채팅 열기",
      close: "채팅 닫기",
      human: "상담원과 대화하기",
      humanMessage: "상담원과 이야기하고 싶어요.",
      helpfulQ: "도움이 되었나요?",
      helpful: "도움이 됨",
      notHelpful: "도움이 안 됨",
      thanks: "의견 주셔서 감사합니다!",
      offerHuman: "도움이 되지 못해 죄송합니다. 상담원과 대화하시겠어요?",
      handoff: "곧 상담원이 여기에서 답변해 드릴 거예요.",
      didYouMean: "혹시 이 중 하나를 찾으셨나요?",
      typing: "입력 중…",
      offline: "지금은 채팅 서비스에 연결할 수 없습니다. 인터넷 연결을 확인해 주세요.",
      retry: "다시 시도",
      error: "문제가 발생했습니다. 다시 시도해 주세요.",
      tooLong: "메시지가 너무 깁니다. 줄여 주세요.",
      rateLimit: "메시지를 너무 빨리 보내고 있어요. 잠시 기다려 주세요.",
      machineTranslated: "기계 번역",
      otherLanguage: "아직 사용하시는 언어로 제공되지 않아 {lang}(으)로 보여 드립니다.",
      you: "나",
      bot: "도우미",
      agent: "고객 지원팀",
      notice: "안내",
      language: "언어",
      unread: "새 메시지 {n}개",
      resolved: "상담원이 이 대화를 종료했습니다. 언제든 다시 문의해 주세요.",
      attach: "사진 첨부",
      photoRemove: "사진 {name} 삭제",
      photoPreview: "사진: {name}",
      photoDrop: "여기에 사진을 놓으세요",
      photoUploading: "사진 보내는 중… {pct}%",
      photos1: "사진",
      photosN: "사진 {n}장",
      photoType: "{name} 파일은 받을 수 없습니다. JPEG, PNG, WebP로 보내 주세요.",
      photoTooLarge: "{name} 파일이 10MB를 넘습니다.",
      photoTooMany: "사진은 한 번에 3장까지 보낼 수 있습니다.",
      photoUnreadable: "{name} 파일을 이미지로 읽을 수 없습니다.",
      photoFailed: "사진을 보내지 못했습니다. 다시 시도해 주세요.",
      emailOffer: "자리를 비우실 경우를 대비해 답변을 이메일로도 보내 드릴 수 있어요.",
      emailLabel: "이메일 주소",
      emailSave: "알림 받기",
      emailNo: "괜찮아요",
      emailSaved: "답변할 때 안 계시면 {email}(으)로 메일을 보내 드릴게요.",
      emailRemove: "삭제",
      emailInvalid: "이메일 주소를 확인해 주세요.",
    },
    ru: {
      title: "Служба поддержки",
      subtitle: "Спрашивайте на любом языке",
      greeting: "Здравствуйте! Я помогу с заказами, доставкой, возвратом и оплатой. Задайте вопрос на своём языке.",
      placeholder: "Введите вопрос…",
      inputLabel: "Ваш вопрос",
      send: "Отправить",
      open: "Открыть чат",
      close: "Закрыть чат",
      human: "Связаться с оператором",
      humanMessage: "Я хочу поговорить с оператором.",
      helpfulQ: "Это было полезно?",
      helpful: "Полезно",
      notHelpful: "Бесполезно",
      thanks: "Спасибо за отзыв!",
      offerHuman: "Жаль, что это не помогло. Хотите поговорить с оператором?",
      handoff: "Сотрудник нашей команды скоро ответит вам здесь.",
      didYouMean: "Возможно, вы имели в виду один из этих вопросов?",
      typing: "Печатает…",
      offline: "Сейчас не удаётся связаться с чатом. Проверьте подключение.",
      retry: "Повторить",
      error: "Что-то пошло не так. Попробуйте ещё раз.",
      tooLong: "Сообщение слишком длинное. Сократите его, пожалуйста.",
      rateLimit: "Вы отправляете сообщения слишком быстро. Подождите немного.",
      machineTranslated: "Машинный перевод",
      otherLanguage: "Пока недоступно на вашем языке, поэтому ответ на языке: {lang}.",
      you: "Вы",
      bot: "Ассистент",
      agent: "Команда поддержки",
      notice: "Уведомление",
      language: "Язык",
      unread: "Новых сообщений: {n}",
      resolved: "Наша команда закрыла этот разговор. Пишите нам в любое время.",
      attach: "Прикрепить фото",
      photoRemove: "Удалить фото {name}",
      photoPreview: "Фото: {name}",
      photoDrop: "Перетащите фото сюда",
      photoUploading: "Отправка фото… {pct}%",
      photos1: "Фото",
      photosN: "Фото: {n}",
      photoType: "Файл {name} не подходит: отправьте JPEG, PNG или WebP.",
      photoTooLarge: "Файл {name} больше 10 МБ.",
      photoTooMany: "За один раз можно отправить до 3 фото.",
      photoUnreadable: "Не удалось прочитать {name} как изображение.",
      photoFailed: "Не удалось отправить фото. Попробуйте ещё раз.",
      emailOffer: "Если вы уйдёте, мы можем прислать ответ и по электронной почте.",
      emailLabel: "Ваш адрес электронной почты",
      emailSave: "Сообщить мне",
      emailNo: "Нет, спасибо",
      emailSaved: "Если вас не будет здесь, когда мы ответим, мы напишем на {email}.",
      emailRemove: "Удалить",
      emailInvalid: "Проверьте адрес электронной почты.",
    },
    tr: {
      title: "Müşteri hizmetleri",
      subtitle: "Her dilde sorabilirsiniz",
      greeting: "Merhaba! Sipariş, kargo, iade ve ödeme konularında yardımcı olabilirim. Sorunuzu kendi dilinizde yazın.",
      placeholder: "Sorunuzu yazın…",
      inputLabel: "Sorunuz",
      send: "Gönder",
      open: "Sohbeti aç",
      close: "Sohbeti kapat",
      human: "Bir temsilciyle konuş",
      humanMessage: "Bir temsilciyle konuşmak istiyorum.",
      helpfulQ: "Bu yardımcı oldu mu?",
      helpful: "Yardımcı oldu",
      notHelpful: "Yardımcı olmadı",
      thanks: "Geri bildiriminiz için teşekkürler!",
      offerHuman: "Yardımcı olamadığımız için üzgünüz. Bir temsilciyle konuşmak ister misiniz?",
      handoff: "Ekibimizden biri kısa süre içinde size burada yanıt verecek.",
      didYouMean: "Bunlardan birini mi demek istediniz?",
      typing: "Yazıyor…",
      offline: "Şu anda sohbet hizmetine ulaşamıyoruz. Lütfen bağlantınızı kontrol edin.",
      retry: "Tekrar dene",
      error: "Bir şeyler ters gitti. Lütfen tekrar deneyin.",
      tooLong: "Mesaj çok uzun. Lütfen kısaltın.",
      rateLimit: "Çok hızlı mesaj gönderiyorsunuz. Lütfen biraz bekleyin.",
      machineTranslated: "Makine çevirisi",
      otherLanguage: "Henüz sizin dilinizde mevcut değil, bu yüzden {lang} olarak gösteriliyor.",
      you: "Siz",
      bot: "Asistan",
      agent: "Destek ekibi",
      notice: "Bilgi",
      language: "Dil",
      unread: "{n} yeni mesaj",
      resolved: "Ekibimiz bu görüşmeyi kapattı. İstediğiniz zaman tekrar yazabilirsiniz.",
      attach: "Fotoğraf ekle",
      photoRemove: "{name} fotoğrafını kaldır",
      photoPreview: "Fotoğraf: {name}",
      photoDrop: "Fotoğrafları buraya bırakın",
      photoUploading: "Fotoğraflar gönderiliyor… %{pct}",
      photos1: "Fotoğraf",
      photosN: "{n} fotoğraf",
      photoType: "{name} kabul edilemiyor: lütfen JPEG, PNG veya WebP gönderin.",
      photoTooLarge: "{name} 10 MB'tan büyük.",
      photoTooMany: "Tek seferde en fazla 3 fotoğraf gönderebilirsiniz.",
      photoUnreadable: "{name} resim olarak okunamadı.",
      photoFailed: "Fotoğraflar gönderilemedi. Lütfen tekrar deneyin.",
      emailOffer: "Ayrılırsanız diye: yanıtımızı e-postayla da gönderebiliriz.",
      emailLabel: "E-posta adresiniz",
      emailSave: "Bana haber ver",
      emailNo: "Hayır, teşekkürler",
      emailSaved: "Yanıt verdiğimizde burada değilseniz {email} adresine yazacağız.",
      emailRemove: "Kaldır",
      emailInvalid: "Lütfen e-posta adresini kontrol edin.",
    },
    sv: {
      title: "Kundservice",
      subtitle: "Fråga på valfritt språk",
      greeting: "Hej! Jag hjälper dig med beställningar, leverans, returer och betalning. Fråga på ditt eget språk.",
      placeholder: "Skriv din fråga…",
      inputLabel: "Din fråga",
      send: "Skicka",
      open: "Öppna chatten",
      close: "Stäng chatten",
      human: "Prata med en person",
      humanMessage: "Jag vill prata med en person.",
      helpfulQ: "Var detta till hjälp?",
      helpful: "Till hjälp",
      notHelpful: "Inte till hjälp",
      thanks: "Tack för din feedback!",
      offerHuman: "Tråkigt att det inte hjälpte. Vill du prata med en person?",
      handoff: "En person från vårt team svarar dig här snart.",
      didYouMean: "Menade du någon av dessa?",
      typing: "Skriver…",
      offline: "Vi når inte chatten just nu. Kontrollera din anslutning.",
      retry: "Försök igen",
      error: "Något gick fel. Försök igen.",
      tooLong: "Meddelandet är för långt. Korta ner det.",
      rateLimit: "Du skickar meddelanden väldigt snabbt. Vänta en stund.",
      machineTranslated: "Maskinöversatt",
      otherLanguage: "Finns ännu inte på ditt språk, så här är det på {lang}.",
      you: "Du",
      bot: "Assistent",
      agent: "Supportteamet",
      notice: "Meddelande",
      language: "Språk",
      unread: "{n} nya meddelanden",
      resolved: "Vårt team har avslutat samtalet. Skriv gärna igen när du vill.",
      attach: "Bifoga foton",
      photoRemove: "Ta bort fotot {name}",
      photoPreview: "Foto: {name}",
      photoDrop: "Släpp foton här",
      photoUploading: "Skickar foton… {pct} %",
      photos1: "Foto",
      photosN: "{n} foton",
      photoType: "Vi kan inte ta emot {name}: skicka JPEG, PNG eller WebP.",
      photoTooLarge: "{name} är större än 10 MB.",
      photoTooMany: "Du kan skicka upp till 3 foton åt gången.",
      photoUnreadable: "{name} kunde inte läsas som en bild.",
      photoFailed: "Fotona kunde inte skickas. Försök igen.",
      emailOffer: "Om du går härifrån: vi kan också skicka vårt svar via e-post.",
      emailLabel: "Din e-postadress",
      emailSave: "Meddela mig",
      emailNo: "Nej tack",
      emailSaved: "Vi mejlar till {email} om du inte är här när vi svarar.",
      emailRemove: "Ta bort",
      emailInvalid: "Kontrollera e-postadressen.",
    },
  };

  // Waiting for a person, withdrawing, rating the conversation (issue 16). The register is
  // each language's own across widget, notices and answers: German du, French vous ...
  const MORE_STRINGS = {
    en: { waitingMin: "Waiting for a person · usually within {n} min",
      waitingHours: "Waiting for a person · usually within {n} h",
      withdraw: "My question is answered", rateQ: "How would you rate this conversation?",
      rateStar: "{n} of 5", rateComment: "Anything to add? (optional)", rateSend: "Send",
      rated: "Thanks for your rating!" },
    de: { waitingMin: "Warten auf eine Person · meist innerhalb von {n} Min.",
      waitingHours: "Warten auf eine Person · meist innerhalb von {n} Std.",
      withdraw: "Meine Frage ist beantwortet", rateQ: "Wie zufrieden warst du mit diesem Gespräch?",
      rateStar: "{n} von 5", rateComment: "Möchtest du noch etwas sagen? (optional)",
      rateSend: "Senden", rated: "Danke für deine Bewertung!" },
    es: { waitingMin: "Esperando a una persona · normalmente en menos de {n} min",
      waitingHours: "Esperando a una persona · normalmente en menos de {n} h",
      withdraw: "Ya tengo mi respuesta", rateQ: "¿Cómo valorarías esta conversación?",
      rateStar: "{n} de 5", rateComment: "¿Algo más que quieras decirnos? (opcional)",
      rateSend: "Enviar", rated: "¡Gracias por tu valoración!" },
    fr: { waitingMin: "En attente d'une personne · généralement sous {n} min",
      waitingHours: "En attente d'une personne · généralement sous {n} h",
      withdraw: "J'ai ma réponse", rateQ: "Comment évalueriez-vous cette conversation ?",
      rateStar: "{n} sur 5", rateComment: "Un commentaire ? (facultatif)", rateSend: "Envoyer",
      rated: "Merci pour votre évaluation !" },
    it: { waitingMin: "In attesa di una persona · di solito entro {n} min",
      waitingHours: "In attesa di una persona · di solito entro {n} ore",
      withdraw: "Ho avuto la mia risposta", rateQ: "Come valuteresti questa conversazione?",
      rateStar: "{n} su 5", rateComment: "Vuoi aggiungere qualcosa? (facoltativo)",
      rateSend: "Invia", rated: "Grazie per la tua valutazione!" },
    nl: { waitingMin: "Wachten op een medewerker · meestal binnen {n} min",
      waitingHours: "Wachten op een medewerker · meestal binnen {n} uur",
      withdraw: "Mijn vraag is beantwoord", rateQ: "Hoe beoordeel je dit gesprek?",
      rateStar: "{n} van 5", rateComment: "Wil je nog iets kwijt? (optioneel)",
      rateSend: "Versturen", rated: "Bedankt voor je beoordeling!" },
    pl: { waitingMin: "Czekasz na pracownika · zwykle do {n} min",
      waitingHours: "Czekasz na pracownika · zwykle do {n} godz.",
      withdraw: "Mam już odpowiedź", rateQ: "Jak oceniasz tę rozmowę?",
      rateStar: "{n} z 5", rateComment: "Chcesz coś dodać? (opcjonalnie)", rateSend: "Wyślij",
      rated: "Dziękujemy za ocenę!" },
    pt: { waitingMin: "À espera de uma pessoa · normalmente até {n} min",
      waitingHours: "À espera de uma pessoa · normalmente até {n} h",
      withdraw: "Já tenho a minha resposta", rateQ: "Como avalia esta conversa?",
      rateStar: "{n} de 5", rateComment: "Quer acrescentar algo? (opcional)", rateSend: "Enviar",
      rated: "Obrigado pela sua avaliação!" },
    zh: { waitingMin: "正在等待客服人员 · 通常 {n} 分钟内回复",
      waitingHours: "正在等待客服人员 · 通常 {n} 小时内回复",
      withdraw: "我的问题已解决", rateQ: "您对本次对话满意吗？", rateStar: "{n} 分（满分 5 分）",
      rateComment: "还有什么想说的吗？（选填）", rateSend: "提交", rated: "感谢您的评价！" },
    ja: { waitingMin: "担当者をお待ちください · 通常 {n} 分以内",
      waitingHours: "担当者をお待ちください · 通常 {n} 時間以内",
      withdraw: "質問は解決しました", rateQ: "今回の対応はいかがでしたか？", rateStar: "5 段階中 {n}",
      rateComment: "ご意見があればどうぞ（任意）", rateSend: "送信", rated: "評価ありがとうございます！" },
    ko: { waitingMin: "상담원을 기다리는 중 · 보통 {n}분 이내",
      waitingHours: "상담원을 기다리는 중 · 보통 {n}시간 이내",
      withdraw: "질문이 해결됐어요", rateQ: "이번 상담은 어떠셨나요?", rateStar: "5점 중 {n}점",
      rateComment: "더 하실 말씀이 있나요? (선택)", rateSend: "보내기", rated: "평가해 주셔서 감사합니다!" },
    ru: { waitingMin: "Ожидание сотрудника · обычно до {n} мин",
      waitingHours: "Ожидание сотрудника · обычно до {n} ч",
      withdraw: "Мой вопрос решён", rateQ: "Как вы оцените этот разговор?", rateStar: "{n} из 5",
      rateComment: "Хотите что-то добавить? (необязательно)", rateSend: "Отправить",
      rated: "Спасибо за оценку!" },
    tr: { waitingMin: "Bir çalışan bekleniyor · genellikle {n} dk içinde",
      waitingHours: "Bir çalışan bekleniyor · genellikle {n} saat içinde",
      withdraw: "Sorum yanıtlandı", rateQ: "Bu görüşmeyi nasıl değerlendirirsiniz?",
      rateStar: "5 üzerinden {n}", rateComment: "Eklemek istediğiniz bir şey var mı? (isteğe bağlı)",
      rateSend: "Gönder", rated: "Değerlendirmeniz için teşekkürler!" },
    sv: { waitingMin: "Väntar på en person · oftast inom {n} min",
      waitingHours: "Väntar på en person · oftast inom {n} tim",
      withdraw: "Min fråga är besvarad", rateQ: "Hur skulle du betygsätta det här samtalet?",
      rateStar: "{n} av 5", rateComment: "Vill du lägga till något? (valfritt)",
      rateSend: "Skicka", rated: "Tack för ditt betyg!" },
  };
  for (const [code, extra] of Object.entries(MORE_STRINGS)) {
    if (STRINGS[code]) Object.assign(STRINGS[code], extra);
  }

  /** Pick the first supported language from a list of BCP 47 tags ("de-AT" -> "de"). */
  function pickLanguage(tags) {
    for (const tag of tags) {
      const base = String(tag || "").toLowerCase().split(/[-_]/)[0];
      if (STRINGS[base]) return base;
    }
    return "en";
  }

  // ---------------------------------------------------------------- options
  const scriptOrigin = (() => {
    try { return new URL(script.src, location.href).origin; } catch { return location.origin; }
  })();
  const server = (attr("server") || scriptOrigin).replace(/\/+$/, "");
  const pageLocale = attr("locale");
  const browserLocales = navigator.languages && navigator.languages.length
    ? navigator.languages : [navigator.language];
  // The page's setting wins over the browser: the shop knows which storefront this is.
  const localeHint = pageLocale || browserLocales[0] || "en";
  let uiLang = pickLanguage(pageLocale ? [pageLocale] : browserLocales);
  let chosenLang = null; // set only when the shopper picks a language in the widget
  const market = attr("market") || null;
  const customTitle = attr("title");
  const accent = (() => {
    const c = attr("color");
    return c && window.CSS && CSS.supports("color", c) ? c : "#2454d6";
  })();

  const t = (key, vars) => {
    let s = (STRINGS[uiLang] && STRINGS[uiLang][key]) || STRINGS.en[key] || key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(v);
    return s;
  };

  // ---------------------------------------------------------------- storage
  const storeKey = "faqbot:" + server;
  const store = {
    get(name) {
      try { return JSON.parse(localStorage.getItem(storeKey) || "{}")[name]; } catch { return undefined; }
    },
    set(name, value) {
      try {
        const all = JSON.parse(localStorage.getItem(storeKey) || "{}");
        if (value === undefined || value === null) delete all[name]; else all[name] = value;
        localStorage.setItem(storeKey, JSON.stringify(all));
      } catch { /* storage disabled (private mode): the chat still works for this page */ }
    },
  };

  // ---------------------------------------------------------------- DOM helpers
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "text") el.textContent = v;
        else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children) if (c !== null && c !== undefined) el.append(c);
    return el;
  }

  const SVGNS = "http://www.w3.org/2000/svg";
  function icon(paths, size = 20) {
    const svg = document.createElementNS(SVGNS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", String(size));
    svg.setAttribute("height", String(size));
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    for (const d of paths) {
      const p = document.createElementNS(SVGNS, "path");
      p.setAttribute("d", d);
      svg.append(p);
    }
    return svg;
  }
  const ICON_CHAT = ["M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"];
  const ICON_CLOSE = ["M6 6l12 12M18 6L6 18"];
  const ICON_SEND = ["M3 11l18-8-8 18-2-8-8-2z"];
  const ICON_UP = ["M7 10v11H3V10h4zm2 11h8.3a2 2 0 0 0 2-1.6l1.6-7.6A2 2 0 0 0 19 9h-5l.8-4.1a1.5 1.5 0 0 0-2.7-1.1L9 9v12z"];
  const ICON_DOWN = ["M17 14V3h4v11h-4zM15 3H6.7a2 2 0 0 0-2 1.6L3.1 12.2A2 2 0 0 0 5 15h5l-.8 4.1a1.5 1.5 0 0 0 2.7 1.1L15 15V3z"];
  const ICON_GLOBE = ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3 12h18M12 3c2.5 2.7 3.5 5.7 3.5 9s-1 6.3-3.5 9c-2.5-2.7-3.5-5.7-3.5-9s1-6.3 3.5-9z"];
  const ICON_PERSON = ["M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm-7 8a7 7 0 0 1 14 0"];
  const ICON_CLIP = ["M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.9-8.9a3.7 3.7 0 0 1 5.2 5.2l-8.9 8.9a1.8 1.8 0 0 1-2.6-2.6l8.2-8.2"];
  const ICON_MAIL = ["M3 5h18v14H3z", "M3 6l9 7 9-7"];
  const ICON_CHECK = ["M5 12.5l4.5 4.5L19 7.5"];

  // ---------------------------------------------------------------- Markdown subset
  // bot/web/static/markdown.js, shared with the agent console; GET /widget.js serves it with this
  // file inside one closure.
  const { renderMarkdown } = faqbotMarkdown(server);
  const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];
  const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
  const MAX_PHOTOS = 3;

  // ---------------------------------------------------------------- styles
  const CSS_TEXT = `
:host {
  all: initial !important;
  display: block !important;
  position: fixed !important;
  inset: auto 0 0 auto !important;
  width: 0 !important; height: 0 !important;
  margin: 0 !important; padding: 0 !important; border: 0 !important;
  transform: none !important; filter: none !important; opacity: 1 !important;
  visibility: visible !important; overflow: visible !important;
  z-index: 2147483000 !important;
  contain: none !important;
}
/* A theme's "*::before { content: ... }" would otherwise draw on the host itself. */
:host::before, :host::after { content: none !important; display: none !important; }
.root {
  --accent: ${accent};
  --on-accent: #fff;
  --ink: #1c2330;
  --muted: #5d6675;
  --line: #e3e6eb;
  --bg: #f5f6f8;
  --radius: 16px;
  font: 400 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
        "Noto Sans", "PingFang SC", "Hiragino Sans", "Malgun Gothic", sans-serif;
  color: var(--ink);
  letter-spacing: normal; text-transform: none; text-align: left; direction: ltr;
  -webkit-font-smoothing: antialiased;
}
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
button, input, select { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid color-mix(in srgb, var(--accent) 55%, #fff); outline-offset: 2px; }
.sr { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
      clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }

.launcher {
  position: fixed; right: 20px; bottom: 20px; width: 60px; height: 60px; border-radius: 50%;
  border: 0; background: var(--accent); color: var(--on-accent);
  display: grid; place-items: center;
  box-shadow: 0 6px 20px rgba(15, 23, 42, .28), 0 2px 6px rgba(15, 23, 42, .18);
  transition: transform .15s ease;
}
.launcher:hover { transform: scale(1.06); }
.launcher svg { fill: currentColor; stroke: none; }
.launcher .x { fill: none; stroke: currentColor; stroke-width: 2.4; stroke-linecap: round; }
.badge {
  position: absolute; top: -2px; right: -2px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #d92d20; color: #fff; font-size: 12px; font-weight: 700;
  display: grid; place-items: center; border: 2px solid #fff;
}

.panel {
  position: fixed; right: 20px; bottom: 92px;
  width: 380px; height: min(620px, calc(100vh - 120px)); min-height: 320px;
  background: #fff; border-radius: var(--radius); overflow: hidden;
  display: flex; flex-direction: column;
  box-shadow: 0 18px 50px rgba(15, 23, 42, .28), 0 3px 10px rgba(15, 23, 42, .12);
  animation: pop .18s ease-out;
}
@keyframes pop { from { opacity: 0; transform: translateY(12px) scale(.98); } }

.head {
  background: var(--accent); color: var(--on-accent);
  padding: 14px 12px 14px 16px; display: flex; align-items: center; gap: 12px; flex: none;
}
.avatar {
  width: 38px; height: 38px; border-radius: 50%; flex: none; display: grid; place-items: center;
  background: rgba(255, 255, 255, .18); position: relative;
}
.avatar svg { fill: currentColor; }
.avatar::after {
  content: ""; position: absolute; right: 0; bottom: 0; width: 10px; height: 10px;
  border-radius: 50%; background: #3ccb7f; border: 2px solid var(--accent);
}
.avatar.waiting::after { background: #f0a020; }
.titles { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 16px; font-weight: 650; line-height: 1.2;
         white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.subtitle { margin: 2px 0 0; font-size: 12.5px; opacity: .85; }
.iconbtn {
  width: 36px; height: 36px; border-radius: 10px; border: 0; background: transparent;
  color: inherit; display: grid; place-items: center; flex: none;
}
.iconbtn:hover { background: rgba(255, 255, 255, .16); }
.iconbtn svg { fill: none; stroke: currentColor; stroke-width: 2.2; stroke-linecap: round; }

.log {
  flex: 1; overflow-y: auto; background: var(--bg); padding: 16px 14px 8px;
  display: flex; flex-direction: column; gap: 10px; overscroll-behavior: contain;
}
.msg { display: flex; flex-direction: column; max-width: 86%; }
.msg.shopper { align-self: flex-end; align-items: flex-end; }
.msg.bot, .msg.agent { align-self: flex-start; }
.who { font-size: 11.5px; color: var(--muted); margin: 0 4px 3px; font-weight: 600; }
.bubble {
  padding: 9px 13px; border-radius: 14px; overflow-wrap: anywhere; white-space: normal;
  background: #fff; border: 1px solid var(--line); border-top-left-radius: 4px;
}
.shopper .bubble {
  background: var(--accent); color: var(--on-accent); border-color: transparent;
  border-top-left-radius: 14px; border-top-right-radius: 4px; white-space: pre-wrap;
}
.agent .bubble {
  background: color-mix(in srgb, var(--accent) 9%, #fff);
  border-color: color-mix(in srgb, var(--accent) 30%, #fff);
}
.bubble p { margin: 0; }
.bubble p + p, .bubble p + ul, .bubble p + ol, .bubble ul + p, .bubble ol + p { margin-top: 8px; }
.bubble ul, .bubble ol { margin: 4px 0 0; padding-left: 20px; }
.bubble li + li { margin-top: 2px; }
.bubble a { color: var(--accent); text-decoration: underline; text-underline-offset: 2px; }
.shopper .bubble a { color: inherit; }
.bubble code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px;
               background: #eef0f3; border-radius: 4px; padding: 0 4px; }
.meta { font-size: 11.5px; color: var(--muted); margin: 4px 4px 0; }
.notice {
  align-self: center; max-width: 92%; text-align: center; font-size: 12.5px; color: #3d4654;
  background: #e9ecf1; border-radius: 10px; padding: 7px 12px;
}

.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.chip {
  border: 1.5px solid var(--accent); color: var(--accent); background: #fff;
  border-radius: 999px; padding: 6px 12px; font-size: 13px; text-align: left; line-height: 1.3;
}
.chip:hover:not(:disabled) { background: color-mix(in srgb, var(--accent) 8%, #fff); }
.chip:disabled { opacity: .55; cursor: default; }
.chip.person { background: var(--accent); color: var(--on-accent); display: inline-flex;
               align-items: center; gap: 6px; }
.chip.person:hover:not(:disabled) { background: color-mix(in srgb, var(--accent) 85%, #000); }
.chip.person svg { fill: none; stroke: currentColor; stroke-width: 2; }
.chip.none { border-style: dashed; border-color: var(--muted); color: #3d4654;
             display: inline-flex; align-items: center; gap: 6px; }
.chip.none svg { fill: none; stroke: currentColor; stroke-width: 2; }

.fb { display: flex; align-items: center; gap: 4px; margin: 4px 2px 0; font-size: 12px;
      color: var(--muted); }
.fb button {
  border: 1px solid transparent; background: transparent; color: var(--muted);
  width: 30px; height: 30px; border-radius: 8px; display: grid; place-items: center;
}
.fb button:hover:not(:disabled) { background: #e9ecf1; color: var(--ink); }
.fb button svg { fill: currentColor; }
.fb button[aria-pressed="true"] { color: var(--accent); }

.typing { align-self: flex-start; background: #fff; border: 1px solid var(--line);
          border-radius: 14px; border-top-left-radius: 4px; padding: 12px 14px;
          display: flex; gap: 4px; }
.typing i { width: 7px; height: 7px; border-radius: 50%; background: #9aa3b1;
            animation: blink 1.2s infinite ease-in-out; }
.typing i:nth-child(2) { animation-delay: .15s; }
.typing i:nth-child(3) { animation-delay: .3s; }
@keyframes blink { 0%, 80%, 100% { opacity: .3; transform: translateY(0); }
                   40% { opacity: 1; transform: translateY(-3px); } }

.error {
  flex: none; display: flex; align-items: center; gap: 10px; padding: 9px 14px;
  background: #fdecea; color: #8a1c12; font-size: 13px; border-top: 1px solid #f6c9c3;
}
.error span { flex: 1; }
.error button { border: 1px solid #c8372d; background: #fff; color: #a3261c; border-radius: 8px;
                padding: 5px 10px; font-size: 12.5px; font-weight: 600; white-space: nowrap; }

.foot { flex: none; border-top: 1px solid var(--line); background: #fff; padding: 8px 10px 10px; }
.tools { display: flex; align-items: center; justify-content: space-between; gap: 8px;
         margin: 0 0 6px; }
.langwrap { margin-left: auto; display: inline-flex; align-items: center; gap: 4px; color: var(--muted); }
.langwrap svg { fill: none; stroke: currentColor; stroke-width: 1.7; }
.lang {
  border: 1px solid transparent; background: transparent; color: var(--muted);
  border-radius: 6px; padding: 3px 2px; font-size: 12.5px; max-width: 120px;
}
.lang:hover { border-color: var(--line); color: var(--ink); }
.humanbtn, .withdrawbtn {
  border: 0; background: transparent; color: var(--accent); font-size: 12.5px; font-weight: 600;
  padding: 4px 6px; border-radius: 6px; display: inline-flex; align-items: center; gap: 5px;
  margin: 0;
}
.humanbtn svg, .withdrawbtn svg { fill: none; stroke: currentColor; stroke-width: 2; }
.rate { display: flex; flex-direction: column; gap: 8px; }
.stars { display: flex; gap: 4px; }
.stars button {
  width: 36px; height: 36px; border-radius: 10px; border: 1.5px solid var(--line);
  background: #fff; color: #b7bdc8; font-size: 20px; line-height: 1; display: grid;
  place-items: center; padding: 0;
}
.stars button.on { color: #f0a020; border-color: #f0a020; }
.stars button:hover:not(:disabled) { border-color: var(--accent); }
.stars button:disabled { cursor: default; }
.ratecomment { display: flex; gap: 6px; }
.ratecomment input { flex: 1; min-width: 0; border: 1.5px solid #cfd4dc; border-radius: 10px;
                     padding: 7px 10px; font-size: 13.5px; background: #fff; }
.ratecomment button { border: 0; border-radius: 10px; background: var(--accent);
                      color: var(--on-accent); padding: 7px 12px; font-size: 13px; font-weight: 600; }
.humanbtn:hover, .withdrawbtn:hover {
  background: color-mix(in srgb, var(--accent) 8%, #fff);
}
form { display: flex; gap: 8px; align-items: center; margin: 0; }
.input {
  flex: 1; min-width: 0; border: 1.5px solid #cfd4dc; border-radius: 12px; padding: 10px 12px;
  background: #fff; font-size: 15px; outline: none;
}
.input:focus { border-color: var(--accent); box-shadow: 0 0 0 3px color-mix(in srgb, var(--accent) 18%, transparent); }
.send {
  width: 42px; height: 42px; flex: none; border: 0; border-radius: 12px;
  background: var(--accent); color: var(--on-accent); display: grid; place-items: center;
}
.send:disabled { opacity: .5; cursor: default; }
.send svg { fill: currentColor; }

.attach {
  width: 42px; height: 42px; flex: none; border: 1.5px solid #cfd4dc; border-radius: 12px;
  background: #fff; color: var(--muted); display: grid; place-items: center;
}
.attach:hover:not(:disabled) { color: var(--accent); border-color: var(--accent); }
.attach:disabled { opacity: .5; cursor: default; }
.attach svg { fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round;
              stroke-linejoin: round; }
.staged { display: flex; gap: 8px; margin: 0 0 8px; padding: 0; list-style: none; flex-wrap: wrap; }
.staged li { position: relative; width: 64px; height: 64px; border-radius: 10px; overflow: hidden;
             border: 1px solid var(--line); background: var(--bg); }
.staged img, .thumbs img { width: 100%; height: 100%; object-fit: cover; display: block; }
.staged button {
  position: absolute; top: 2px; right: 2px; width: 24px; height: 24px; border-radius: 50%;
  border: 0; background: rgba(20, 26, 36, .78); color: #fff; display: grid; place-items: center;
}
.staged button svg { fill: none; stroke: currentColor; stroke-width: 2.6; stroke-linecap: round; }
.progress { height: 6px; border-radius: 3px; background: var(--line); overflow: hidden; margin: 0 0 6px; }
.progress i { display: block; height: 100%; width: 0; background: var(--accent); transition: width .2s; }
.progresstext { font-size: 12px; color: var(--muted); margin: 0 0 4px; }
.thumbs { display: flex; gap: 6px; flex-wrap: wrap; margin-bottom: 6px; }
.thumbs span { width: 84px; height: 84px; border-radius: 10px; overflow: hidden; display: block;
               border: 1px solid rgba(255, 255, 255, .5); }
.photoline { display: inline-flex; align-items: center; gap: 5px; font-weight: 600; }
.dropzone {
  position: absolute; inset: 0; z-index: 5; display: grid; place-items: center;
  background: color-mix(in srgb, var(--accent) 14%, rgba(255, 255, 255, .92));
  border: 3px dashed var(--accent); border-radius: inherit; color: var(--accent);
  font-weight: 700; font-size: 16px; pointer-events: none;
}
.followup {
  align-self: stretch; background: #fff; border: 1px solid var(--line); border-radius: 12px;
  padding: 10px 12px; font-size: 13px;
}
.followup p { margin: 0 0 8px; display: flex; gap: 6px; align-items: flex-start; }
.followup p svg { flex: none; margin-top: 2px; fill: none; stroke: var(--accent); stroke-width: 1.8; }
.followup form { flex-wrap: wrap; }
.followup input {
  flex: 1 1 100%; min-width: 0; border: 1.5px solid #cfd4dc; border-radius: 10px;
  padding: 8px 10px; font-size: 15px; background: #fff;
}
.followup input:focus { border-color: var(--accent); outline: none;
  box-shadow: 0 0 0 3px color-mix(in srgb, var(--accent) 18%, transparent); }
.followup .save { border: 0; border-radius: 10px; background: var(--accent); color: var(--on-accent);
                  padding: 8px 12px; font-weight: 600; }
.followup .no, .followup .remove { border: 0; background: transparent; color: var(--muted);
  text-decoration: underline; padding: 8px 4px; }
.followup .err { color: #a3261c; margin: 6px 0 0; }
.followup.saved { background: #eef7f1; border-color: #b9e0c6; }
.followup p > span { flex: 1; min-width: 0; }
.followup.saved p { margin: 0; align-items: center; flex-wrap: wrap; }

@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; min-height: 0; border-radius: 0;
           bottom: 0; right: 0; }
  .root.open .launcher { display: none; }
  .msg { max-width: 92%; }
}
@media (prefers-reduced-motion: reduce) {
  .panel, .typing i, .launcher { animation: none; transition: none; }
}
`;

  // Text on the accent colour must stay readable whatever colour the shop picks.
  function onAccent(color) {
    const probe = document.createElement("canvas").getContext("2d");
    if (!probe) return "#fff";
    probe.fillStyle = color;
    const hex = probe.fillStyle; // normalised to #rrggbb (or rgba() for transparent colours)
    const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    if (!m) return "#fff";
    const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const L = 0.2126 * lin(parseInt(m[1], 16)) + 0.7152 * lin(parseInt(m[2], 16))
      + 0.0722 * lin(parseInt(m[3], 16));
    return L > 0.45 ? "#141a24" : "#fff";
  }

  // ---------------------------------------------------------------- build the widget
  const host = document.createElement("faqbot-widget");
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = CSS_TEXT;
  shadow.append(style);

  const uid = Math.random().toString(36).slice(2, 8);
  const ids = { panel: "fb-panel-" + uid, title: "fb-title-" + uid, input: "fb-input-" + uid };
  const bindings = []; // [element, stringKey, attribute|null] refreshed when the language changes
  const bind = (el, key, attrName = null) => { bindings.push([el, key, attrName]); return el; };

  const root = h("div", { class: "root" });
  root.style.setProperty("--on-accent", onAccent(accent));

  const badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  const launcherLabel = h("span", { class: "sr" });
  const launcher = h("button", {
    class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": ids.panel,
  });
  const chatIcon = icon(ICON_CHAT, 28);
  const closeIcon = icon(ICON_CLOSE, 26);
  closeIcon.classList.add("x");
  closeIcon.style.display = "none";
  launcher.append(chatIcon, closeIcon, launcherLabel, badge);

  const titleEl = h("h2", { class: "title", id: ids.title });
  const subtitleEl = bind(h("p", { class: "subtitle" }), "subtitle");
  const langSelect = h("select", { class: "lang" });
  // The menu lists the languages this desk supports (GET /api/config, filled in once it
  // answers), each named in its own language by the browser.
  function nativeName(code) {
    try {
      const name = new Intl.DisplayNames([code], { type: "language" }).of(code) || code;
      return name.charAt(0).toLocaleUpperCase(code) + name.slice(1);
    } catch { return code; }
  }
  function fillLanguages(codes) {
    const list = codes.includes(uiLang) ? codes : [uiLang, ...codes];
    langSelect.replaceChildren(...list.map((code) =>
      h("option", { value: code, lang: code, text: nativeName(code) })));
    langSelect.value = uiLang;
  }
  bind(langSelect, "language", "aria-label");
  const closeBtn = bind(h("button", { class: "iconbtn", type: "button" }), "close", "aria-label");
  closeBtn.append(icon(ICON_CLOSE, 20));
  const avatar = h("div", { class: "avatar", "aria-hidden": "true" }, icon(ICON_CHAT, 20));
  const head = h("div", { class: "head" },
    avatar, h("div", { class: "titles" }, titleEl, subtitleEl), closeBtn);

  const log = h("div", {
    class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions text",
    tabindex: "0",
  });
  const greeting = h("div", { class: "msg bot" },
    bind(h("div", { class: "who" }), "bot"),
    bind(h("div", { class: "bubble" }), "greeting"));
  log.append(greeting);

  const typing = h("div", { class: "typing", role: "status", hidden: true },
    h("i"), h("i"), h("i"), bind(h("span", { class: "sr" }), "typing"));

  const errorText = h("span");
  const retryBtn = bind(h("button", { type: "button" }), "retry");
  const errorBar = h("div", { class: "error", role: "alert", hidden: true }, errorText, retryBtn);

  const humanLabel = bind(h("span"), "human");
  const humanBtn = h("button", { class: "humanbtn", type: "button" }, icon(ICON_PERSON, 16), humanLabel);
  const withdrawBtn = h("button", { class: "withdrawbtn", type: "button", hidden: true },
    icon(ICON_CHECK, 16), bind(h("span"), "withdraw"));
  const inputLabel = bind(h("label", { class: "sr", for: ids.input }), "inputLabel");
  const input = h("input", {
    class: "input", id: ids.input, type: "text", maxlength: "1000", autocomplete: "off",
    enterkeyhint: "send",
  });
  bind(input, "placeholder", "placeholder");
  const sendBtn = bind(h("button", { class: "send", type: "submit" }), "send", "aria-label");
  sendBtn.append(icon(ICON_SEND, 20));
  // Photos: a button (and paste or drop) stages up to 3, sent with the next message.
  const attachBtn = bind(h("button", { class: "attach", type: "button", hidden: true }),
    "attach", "aria-label");
  attachBtn.append(icon(ICON_CLIP, 20));
  bind(attachBtn, "attach", "title");
  const fileInput = h("input", { type: "file", accept: PHOTO_TYPES.join(","), multiple: true,
    hidden: true, tabindex: "-1", "aria-hidden": "true" });
  const staged = h("ul", { class: "staged", hidden: true });
  const progressText = h("p", { class: "progresstext", hidden: true, "aria-live": "polite" });
  const progressBar = h("div", { class: "progress", role: "progressbar", hidden: true,
    "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, h("i"));
  const dropzone = bind(h("div", { class: "dropzone", hidden: true, "aria-hidden": "true" }),
    "photoDrop");
  const form = h("form", { novalidate: true }, attachBtn, fileInput, inputLabel, input, sendBtn);
  const langWrap = h("span", { class: "langwrap" }, icon(ICON_GLOBE, 15), langSelect);
  const foot = h("div", { class: "foot" },
    h("div", { class: "tools" }, humanBtn, withdrawBtn, langWrap),
    staged, progressText, progressBar, form);

  const panel = h("section", {
    class: "panel", id: ids.panel, role: "dialog", "aria-modal": "false",
    "aria-labelledby": ids.title, hidden: true,
  }, head, log, errorBar, foot, dropzone);

  root.append(panel, launcher);
  shadow.append(root);

  function applyStrings() {
    for (const [el, key, attrName] of bindings) {
      if (attrName) el.setAttribute(attrName, t(key)); else el.textContent = t(key);
    }
    titleEl.textContent = customTitle || t("title");
    log.setAttribute("aria-label", customTitle || t("title"));
    langSelect.value = uiLang;
    root.setAttribute("lang", uiLang);
    updateLauncher();
    updateHeader();
  }

  // ---------------------------------------------------------------- state
  let sid = store.get("sid") || null;
  // A random id kept in this browser, so an agent sees the shopper's earlier conversations
  // (bot/chat/inbox.py); getRandomValues works on plain-http shop pages too (randomUUID not).
  const visitorId = store.get("visitor") || (() => {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    store.set("visitor", id);
    return id;
  })();
  // The page the shopper writes from, for the agent; without query and fragment, which can
  // carry tokens or e-mail addresses.
  const pageUrl = () => (location.origin + location.pathname).slice(0, 500);
  let cursor = 0;
  let state = "bot"; // "bot" | "handoff" | "resolved" as the server last reported it
  let ticketOpen = false;
  let waitMinutes = null; // how long a person usually takes, while the shopper waits
  let rated = false; // this conversation has its rating (asked once, never twice)
  let isOpen = false;
  let unread = 0;
  let busy = false;
  const rendered = new Set(); // message ids already on screen
  const pendingShopper = []; // texts shown locally whose server ids we have not seen yet
  const pendingNotices = []; // notices shown from a response, stored as a message as well
  const feedbackGiven = new Set(store.get("feedback") || []);

  function updateLauncher() {
    launcherLabel.textContent = isOpen ? t("close") : t("open");
    launcher.setAttribute("aria-expanded", String(isOpen));
    chatIcon.style.display = isOpen ? "none" : "";
    closeIcon.style.display = isOpen ? "" : "none";
    badge.hidden = unread === 0 || isOpen;
    badge.textContent = unread ? String(unread) : "";
    if (unread && !isOpen) launcherLabel.textContent = t("open") + ", " + t("unread", { n: unread });
  }

  function scrollDown() {
    requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
  }

  function addToLog(node) {
    log.insertBefore(node, typing.parentNode === log ? typing : null);
    scrollDown();
    return node;
  }

  function messageNode(role, content, extras, name) {
    let who = { shopper: t("you"), bot: t("bot"), agent: t("agent") }[role] || t("notice");
    if (role === "agent" && name) who = name + " · " + who; // the person who answered
    const bubble = h("div", { class: "bubble" });
    bubble.append(content);
    const node = h("div", { class: "msg " + role }, h("div", { class: "who", text: who }), bubble);
    if (role === "shopper") node.firstChild.classList.add("sr"); // own name only for screen readers
    for (const e of extras || []) if (e) node.append(e);
    return node;
  }

  function addShopper(text) {
    return addToLog(messageNode("shopper", document.createTextNode(text)));
  }

  function addNotice(text) {
    return addToLog(h("div", { class: "notice", role: "note", text }));
  }

  function personChip() {
    const b = h("button", { class: "chip person", type: "button" }, icon(ICON_PERSON, 15),
      h("span", { text: t("human") }));
    b.addEventListener("click", () => { b.disabled = true; askHuman(); });
    return b;
  }

  function feedbackRow(messageId) {
    if (!messageId || !sid) return null;
    if (feedbackGiven.has(messageId)) return h("div", { class: "fb", text: t("thanks") });
    const label = h("span", { text: t("helpfulQ") });
    const up = h("button", { type: "button", "aria-label": t("helpful"), title: t("helpful") },
      icon(ICON_UP, 16));
    const down = h("button", { type: "button", "aria-label": t("notHelpful"),
      title: t("notHelpful") }, icon(ICON_DOWN, 16));
    const row = h("div", { class: "fb", role: "group", "aria-label": t("helpfulQ") }, label, up, down);
    up.addEventListener("click", () => sendFeedback(messageId, true, row, up, down));
    down.addEventListener("click", () => sendFeedback(messageId, false, row, up, down));
    return row;
  }

  function languageName(code) {
    try { return new Intl.DisplayNames([uiLang], { type: "language" }).of(code) || code; }
    catch { return code; }
  }

  function addBotAnswer(resp) {
    const notes = [];
    if (resp.machine_translated) notes.push(t("machineTranslated"));
    if (resp.answer_language && resp.language && resp.answer_language !== resp.language) {
      notes.push(t("otherLanguage", { lang: languageName(resp.answer_language) }));
    }
    const meta = notes.length ? h("div", { class: "meta", text: notes.join(" · ") }) : null;
    rendered.add(resp.message_id);
    addToLog(messageNode("bot", renderMarkdown(resp.answer), [meta, feedbackRow(resp.message_id)]));
  }

  function addClarify(resp) {
    const frag = document.createDocumentFragment();
    frag.append(h("p", { text: resp.notice || t("didYouMean") }));
    const chips = h("div", { class: "chips", role: "group", "aria-label": t("didYouMean") });
    for (const s of resp.suggestions || []) {
      const chip = h("button", { class: "chip", type: "button", text: s.question });
      chip.addEventListener("click", () => {
        for (const c of chips.querySelectorAll("button")) c.disabled = true;
        chip.setAttribute("aria-pressed", "true");
        sendText(s.question, { suggestion_id: s.faq_id });
      });
      chips.append(chip);
    }
    if (resp.person_chip) {
      // "None of these — talk to a person": the last chip, set apart from the questions;
      // it hands off like the person button, with the label as the shopper's message.
      const none = h("button", { class: "chip none", type: "button", "data-kind": "person" },
        icon(ICON_PERSON, 15), h("span", { text: resp.person_chip }));
      none.addEventListener("click", () => {
        for (const c of chips.querySelectorAll("button")) c.disabled = true;
        none.setAttribute("aria-pressed", "true");
        sendText(resp.person_chip, { human: true });
      });
      chips.append(none);
    }
    frag.append(chips);
    rendered.add(resp.message_id);
    addToLog(messageNode("bot", frag));
  }

  /** Render one stored message (history on reload, or a new one from polling). */
  function addStored(m, restoring = false) {
    if (rendered.has(m.id)) return;
    rendered.add(m.id);
    if (m.role === "shopper" && m.photos) {
      addToLog(messageNode("shopper", photoContent(m.text, m.photos, [])));
    } else if (m.role === "shopper") {
      addShopper(m.text);
    } else if (m.role === "system" && m.action === "rate") {
      addRating(m.id, m.text);
    } else if (m.role === "system") {
      const i = pendingNotices.indexOf(normalise(m.text));
      if (i >= 0) pendingNotices.splice(i, 1); else addNotice(m.text);
    } else if (m.role === "agent") {
      addToLog(messageNode("agent", renderMarkdown(m.text), [], m.author));
      if (!isOpen && !restoring) { unread += 1; updateLauncher(); }
    } else {
      const fb = m.action === "answer" ? feedbackRow(m.id) : null;
      addToLog(messageNode("bot", renderMarkdown(m.text), [fb]));
    }
  }

  // ---------------------------------------------------------------- network
  class HttpError extends Error {
    constructor(status, detail) { super(detail || "HTTP " + status); this.status = status; }
  }

  async function api(path, body, method) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 20000);
    let res;
    try {
      res = await fetch(server + path, {
        method: method || (body === undefined ? "GET" : "POST"),
        headers: body === undefined ? { Accept: "application/json" }
          : { "Content-Type": "application/json", Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctrl.signal,
        credentials: "omit",
      });
    } catch {
      throw new HttpError(0, "network");
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try { data = await res.json(); } catch { /* an HTML error page from a proxy */ }
    if (!res.ok) throw new HttpError(res.status, data && typeof data.detail === "string" ? data.detail : "");
    return data;
  }

  function errorMessage(err) {
    if (err.status === 429) return t("rateLimit");
    if (err.status === 413) return t("tooLong");
    if (err.status === 0 || err.status >= 500) return t("offline");
    return t("error");
  }

  let retryAction = null;
  function showError(err, retry) {
    errorText.textContent = errorMessage(err);
    retryAction = retry;
    retryBtn.hidden = !retry;
    errorBar.hidden = false;
  }
  function clearError() { errorBar.hidden = true; retryAction = null; }
  /** Show a sentence (already in the shopper's language) in the error bar, with no retry. */
  function showProblem(text) {
    errorText.textContent = text;
    retryAction = null;
    retryBtn.hidden = true;
    errorBar.hidden = false;
  }
  retryBtn.addEventListener("click", () => { const r = retryAction; clearError(); if (r) r(); });

  function setSession(id) {
    if (id && id !== sid) { sid = id; store.set("sid", id); }
    updateHumanButton();
  }

  function showTyping(on) {
    typing.hidden = !on;
    if (on) { log.append(typing); scrollDown(); } else if (typing.parentNode) typing.remove();
  }

  function setBusy(on) {
    busy = on;
    sendBtn.disabled = on;
    showTyping(on);
  }

  function updateHumanButton() {
    humanBtn.hidden = state === "handoff";
    attachBtn.hidden = !sid; // photos join a conversation: there is one once a message went
    withdrawBtn.hidden = state !== "handoff";
  }

  /** Say "waiting for a person — usually within X" instead of the subtitle and green dot. */
  function updateHeader() {
    const waiting = state === "handoff";
    avatar.classList.toggle("waiting", waiting);
    if (!waiting) { subtitleEl.textContent = t("subtitle"); return; }
    const m = Number(waitMinutes) || 0;
    subtitleEl.textContent = m >= 120 ? t("waitingHours", { n: Math.round(m / 60) })
      : m > 0 ? t("waitingMin", { n: m }) : t("handoff");
  }

  /** Take the conversation state the server reported (chat, poll, restore, withdraw). */
  function applyState(data) {
    if (!data) return;
    if (data.state) state = data.state;
    if ("wait_minutes" in data) waitMinutes = data.wait_minutes;
    if (data.rated) rated = true;
    ticketOpen = state === "handoff";
    updateHumanButton();
    updateHeader();
  }

  /** Ask for a 1-5 rating once: one tap sends it, a comment may follow. */
  function addRating(messageId, text) {
    if (messageId) rendered.add(messageId);
    if (rated || !sid || shadow.querySelector(".rate")) return;
    const frag = h("div", { class: "rate" });
    const question = h("p", { text: text || t("rateQ") });
    const stars = h("div", { class: "stars", role: "group", "aria-label": t("rateQ") });
    const buttons = [1, 2, 3, 4, 5].map((n) => {
      const b = h("button", { type: "button", "aria-label": t("rateStar", { n }),
        title: t("rateStar", { n }), text: "★" });
      b.addEventListener("click", () => sendRating(n, null, buttons, frag));
      stars.append(b);
      return b;
    });
    frag.append(question, stars);
    addToLog(messageNode("bot", frag));
  }

  async function sendRating(score, comment, buttons, frag) {
    for (const b of buttons) b.disabled = true;
    buttons.forEach((b, i) => b.classList.toggle("on", i < score));
    try {
      await api(`/api/conversations/${encodeURIComponent(sid)}/rating`, { score, comment });
    } catch (err) {
      if (err.status !== 409) {
        for (const b of buttons) b.disabled = false;
        showError(err, () => sendRating(score, comment, buttons, frag));
        return;
      }
    }
    rated = true;
    if (comment !== null) {  // the comment is in: the thanks line above stays, alone
      frag.querySelector(".ratecomment")?.remove();
      return;
    }
    const box = h("input", { type: "text", maxlength: "1000", "aria-label": t("rateComment"),
      placeholder: t("rateComment") });
    const send = h("button", { type: "button", text: t("rateSend") });
    const row = h("form", { class: "ratecomment", novalidate: true }, box, send);
    const submit = (e) => {
      if (e) e.preventDefault();
      const text = box.value.trim();
      if (!text) { row.remove(); return; }
      send.disabled = true;
      sendRating(score, text, buttons, frag);
    };
    row.addEventListener("submit", submit);
    send.addEventListener("click", submit);
    frag.append(h("p", { text: t("rated") }), row);
    scrollDown();
  }

  async function withdraw() {
    if (!sid) return;
    withdrawBtn.disabled = true;
    let r;
    try {
      r = await api(`/api/conversations/${encodeURIComponent(sid)}/withdraw`, {});
    } catch (err) {
      withdrawBtn.disabled = false;
      showError(err, withdraw);
      return;
    }
    withdrawBtn.disabled = false;
    for (const id of r.message_ids || []) rendered.add(id);
    if (r.notice) addNotice(r.notice);
    cursor = Math.max(cursor, r.cursor || 0);
    applyState(r);
    if (r.rate_message_id) addRating(r.rate_message_id, r.rate_prompt);
  }

  function normalise(text) {
    return String(text).normalize("NFKC").replace(/\s+/g, " ").trim();
  }

  function sendText(text, extra) {
    addShopper(text);
    pendingShopper.push(normalise(text));
    return chat({ message: text, ...extra });
  }

  async function chat(payload) {
    clearError();
    setBusy(true);
    pollGeneration += 1;
    let resp;
    try {
      resp = await api("/api/chat", {
        session_id: sid, language: chosenLang, locale: localeHint, market,
        visitor_id: visitorId, page_url: pageUrl(),
        suggestion_id: null, human: false, ...payload,
      });
    } catch (err) {
      setBusy(false);
      // Bad input (400/413/422) will fail the same way again: no retry button for it.
      const retriable = err.status === 0 || err.status === 429 || err.status >= 500;
      showError(err, retriable ? () => chat(payload) : null);
      return;
    }
    setBusy(false);
    setSession(resp.session_id);
    // Everything this turn stored (the reply, a notice, the rating prompt) is shown here once;
    // polling, which starts from an older cursor while a person is on it, skips these ids.
    for (const id of resp.message_ids || []) rendered.add(id);
    if (resp.action === "answer" && resp.answer) addBotAnswer(resp);
    else if (resp.action === "clarify") addClarify(resp);
    else if (["smalltalk", "noise", "vague"].includes(resp.action) && resp.answer) {
      rendered.add(resp.message_id);
      addToLog(messageNode("bot", renderMarkdown(resp.answer)));
    } else if (resp.action === "handoff") {
      rendered.add(resp.message_id);
      addToLog(messageNode("bot", renderMarkdown(resp.notice || t("handoff"))));
    } else if (resp.notice) addNotice(resp.notice);
    if (resp.action === "answer" && resp.notice) addNotice(resp.notice);
    if (resp.rate_message_id) addRating(resp.rate_message_id, resp.rate_prompt);

    if (resp.state) applyState(resp);
    else if (resp.action === "handoff" || resp.action === "queued" || resp.ticket_id) {
      applyState({ state: "handoff" });
    }
    if (ticketOpen) {
      // Poll from the old cursor so an agent reply written meanwhile is not skipped;
      // what we already show is recognised by id (bot) or by text (the shopper's own).
      pollSoon(0);
    } else {
      cursor = Math.max(cursor, resp.cursor || 0);
      pendingShopper.length = 0;
    }
  }

  function askHuman() {
    sendText(t("humanMessage"), { human: true });
  }

  async function sendFeedback(messageId, helpful, row, up, down) {
    up.disabled = down.disabled = true;
    (helpful ? up : down).setAttribute("aria-pressed", "true");
    let r;
    try {
      r = await api("/api/feedback", { session_id: sid, message_id: messageId, helpful, comment: null });
    } catch (err) {
      up.disabled = down.disabled = false;
      (helpful ? up : down).removeAttribute("aria-pressed");
      showError(err, () => sendFeedback(messageId, helpful, row, up, down));
      return;
    }
    feedbackGiven.add(messageId);
    store.set("feedback", [...feedbackGiven].slice(-50));
    row.replaceChildren(document.createTextNode(t("thanks")));
    if (r && r.rate_message_id) addRating(r.rate_message_id, r.rate_prompt);
    if (r && r.offer_handoff) {
      const frag = document.createDocumentFragment();
      frag.append(h("p", { text: r.notice || t("offerHuman") }));
      frag.append(h("div", { class: "chips" }, personChip()));
      addToLog(messageNode("bot", frag));
    }
  }

  // ---------------------------------------------------------------- polling for agent replies
  let pollTimer = null;
  let pollGeneration = 0;
  let pollFailures = 0;

  function pollSoon(ms) {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(pollOnce, ms);
  }

  function pollInterval() {
    const base = document.hidden ? 10000 : 2000;
    return Math.min(30000, base * 2 ** Math.min(pollFailures, 4));
  }

  function takePendingShopper(text) {
    if (!pendingShopper.length) return false;
    const i = pendingShopper.indexOf(normalise(text));
    pendingShopper.splice(i >= 0 ? i : 0, 1);
    return true;
  }

  async function pollOnce() {
    pollTimer = null;
    if (!sid) return;
    if (busy) { pollSoon(500); return; }
    const generation = pollGeneration;
    let data;
    try {
      data = await api(`/api/conversations/${encodeURIComponent(sid)}/messages?after=${cursor}`
        + (document.hidden ? "&visible=0" : ""));
    } catch (err) {
      if (err.status === 404) { forgetSession(); return; }
      pollFailures += 1;
      if (pollFailures >= 3) showError(err, () => { pollFailures = 0; pollSoon(0); });
      pollSoon(pollInterval());
      return;
    }
    if (pollFailures >= 3) clearError();
    pollFailures = 0;
    // A message was sent while this request was under way: its answer is rendered by chat(),
    // and this (older) view could show it twice, so look again instead.
    if (generation !== pollGeneration || busy) { pollSoon(300); return; }
    applyState(data);
    applyMessages(data);
    showFollowup(data.followup);
    if (ticketOpen) pollSoon(pollInterval());
  }

  function applyMessages(data, restoring = false) {
    for (const m of data.messages || []) {
      if (m.role === "shopper" && !rendered.has(m.id) && takePendingShopper(m.text)) {
        rendered.add(m.id);
        continue;
      }
      addStored(m, restoring);
    }
    cursor = Math.max(cursor, data.cursor || 0);
  }

  function forgetSession() {
    sid = null; cursor = 0; ticketOpen = false; rated = false;
    showFollowup({ email: null, email_offer: false });
    store.set("sid", null);
    applyState({ state: "bot", wait_minutes: null });
  }

  async function restore() {
    if (!sid) return;
    let data;
    try {
      data = await api(`/api/conversations/${encodeURIComponent(sid)}/messages?after=0`);
    } catch (err) {
      if (err.status === 404) { forgetSession(); return; }
      showError(err, () => { clearError(); restore(); });
      return;
    }
    applyState({ state: "bot", ...data });
    applyMessages(data, true);
    showFollowup(data.followup);
    if (ticketOpen) pollSoon(pollInterval());
  }

  // Leaving the page (tab closed, another page): an agent's reply from now on goes by
  // e-mail at once, when an address was left, instead of waiting to see if it is read here.
  window.addEventListener("pagehide", () => {
    if (!sid || !followupFor || followupFor === "offer" || !navigator.sendBeacon) return;
    navigator.sendBeacon(`${server}/api/conversations/${encodeURIComponent(sid)}/leave`);
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && ticketOpen && pollTimer) pollSoon(0);
  });


  // ---------------------------------------------------------------- photos
  const stagedFiles = []; // { file, url } waiting for the next send
  let uploading = false;

  function photoAllowed(file) {
    if (PHOTO_TYPES.includes(file.type)) return true;
    // Some systems give no type for a pasted or dropped file: the name decides here, the
    // server reads the bytes anyway.
    return !file.type && /\.(jpe?g|png|webp)$/i.test(file.name || "");
  }

  function stageFiles(list) {
    const problems = [];
    for (const file of list) {
      const name = file.name || t("photos1");
      if (stagedFiles.length >= MAX_PHOTOS) { problems.push(t("photoTooMany")); break; }
      if (!photoAllowed(file)) { problems.push(t("photoType", { name })); continue; }
      if (file.size > MAX_PHOTO_BYTES) { problems.push(t("photoTooLarge", { name })); continue; }
      stagedFiles.push({ file, url: URL.createObjectURL(file) });
    }
    renderStaged();
    if (problems.length) showProblem(problems.join(" ")); else clearError();
  }

  function unstage(i) {
    const [gone] = stagedFiles.splice(i, 1);
    if (gone) URL.revokeObjectURL(gone.url);
    renderStaged();
    (stagedFiles.length ? staged.querySelector("button") : input).focus();
  }

  function renderStaged() {
    staged.replaceChildren(...stagedFiles.map((f, i) => {
      const name = f.file.name || t("photos1");
      const remove = h("button", { type: "button", "aria-label": t("photoRemove", { name }),
        title: t("photoRemove", { name }) }, icon(ICON_CLOSE, 14));
      remove.addEventListener("click", () => unstage(i));
      return h("li", {}, h("img", { src: f.url, alt: t("photoPreview", { name }) }), remove);
    }));
    staged.hidden = stagedFiles.length === 0;
    staged.setAttribute("aria-label", t("attach"));
  }

  function photoContent(text, count, urls) {
    const frag = document.createDocumentFragment();
    if (urls.length) {
      frag.append(h("span", { class: "thumbs" }, ...urls.map(([url, name]) =>
        h("span", {}, h("img", { src: url, alt: t("photoPreview", { name }) })))));
    } else {
      frag.append(h("span", { class: "photoline" }, icon(ICON_CLIP, 14),
        h("span", { text: count === 1 ? t("photos1") : t("photosN", { n: count }) })));
    }
    if (text) frag.append(h("div", { text }));
    return frag;
  }

  function showProgress(fraction) {
    const on = fraction !== null;
    progressBar.hidden = progressText.hidden = !on;
    if (!on) return;
    const pct = Math.round(fraction * 100);
    progressBar.setAttribute("aria-valuenow", String(pct));
    progressBar.setAttribute("aria-label", t("photoUploading", { pct }));
    progressBar.firstChild.style.width = pct + "%";
    progressText.textContent = t("photoUploading", { pct });
  }

  /** POST a form with upload progress (fetch cannot report it). */
  function upload(path, formData, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", server + path);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.timeout = 120000;
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
      xhr.onload = () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch { /* a proxy's HTML page */ }
        if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
        const err = new HttpError(xhr.status, data && typeof data.detail === "string" ? data.detail : "");
        err.code = data && data.code;
        err.filename = data && data.filename;
        reject(err);
      };
      xhr.onerror = xhr.ontimeout = () => reject(new HttpError(0, "network"));
      xhr.send(formData);
    });
  }

  function photoError(err) {
    const name = err.filename || t("photos1");
    const byCode = { photo_type: "photoType", photo_too_large: "photoTooLarge",
      photo_too_many: "photoTooMany", photo_unreadable: "photoUnreadable",
      photo_empty: "photoUnreadable" }[err.code];
    if (byCode) return t(byCode, { name });
    if (err.status === 413) return t("photoTooLarge", { name });
    if (err.status === 0 || err.status >= 500 || err.status === 429) return errorMessage(err);
    return t("photoFailed");
  }

  async function sendPhotos(text) {
    if (!sid || uploading) return;
    const files = stagedFiles.slice();
    const form = new FormData();
    for (const f of files) form.append("photo", f.file, f.file.name || "photo");
    if (text) form.append("text", text);
    clearError();
    uploading = true;
    attachBtn.disabled = sendBtn.disabled = true;
    pollGeneration += 1;
    showProgress(0);
    let resp;
    try {
      resp = await upload(`/api/conversations/${encodeURIComponent(sid)}/photos`, form, showProgress);
    } catch (err) {
      uploading = false;
      attachBtn.disabled = sendBtn.disabled = false;
      showProgress(null);
      if (text && !input.value) input.value = text;
      const retriable = err.status === 0 || err.status >= 500;
      showError(err, retriable ? () => { input.value = ""; sendPhotos(text); } : null);
      errorText.textContent = photoError(err);
      return;
    }
    uploading = false;
    attachBtn.disabled = sendBtn.disabled = false;
    showProgress(null);
    stagedFiles.length = 0; // their object URLs now show in the log
    renderStaged();
    rendered.add(resp.message_id);
    addToLog(messageNode("shopper", photoContent(text, files.length,
      files.map((f) => [f.url, f.file.name || t("photos1")]))));
    // A handoff notice is a stored message: the poll below brings it. "Queued" is not stored.
    if (resp.action !== "handoff" && resp.notice) addNotice(resp.notice);
    ticketOpen = true;
    state = "handoff";
    updateHumanButton();
    pollSoon(0);
  }

  attachBtn.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    stageFiles([...fileInput.files]);
    fileInput.value = ""; // the same file may be picked again after removing it
    input.focus();
  });
  input.addEventListener("paste", (e) => {
    const files = [...((e.clipboardData && e.clipboardData.files) || [])]
      .filter((f) => f.type.startsWith("image/"));
    if (files.length && sid) { e.preventDefault(); stageFiles(files); }
  });
  const hasFiles = (e) => sid && e.dataTransfer && [...e.dataTransfer.types].includes("Files");
  panel.addEventListener("dragover", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    dropzone.hidden = false;
  });
  panel.addEventListener("dragleave", (e) => {
    if (!panel.contains(e.relatedTarget)) dropzone.hidden = true;
  });
  panel.addEventListener("drop", (e) => {
    dropzone.hidden = true;
    if (!hasFiles(e)) return;
    e.preventDefault();
    stageFiles([...e.dataTransfer.files]);
  });

  // ---------------------------------------------------------------- e-mail follow-up
  let followupNode = null;
  let followupFor = ""; // what the card shows: "offer" or the saved address

  function showFollowup(f) {
    if (!f) return;
    if (f.email) {
      if (followupFor !== f.email) placeFollowup(savedCard(f.email), f.email);
    } else if (f.email_offer && store.get("followupNo") !== sid) {
      if (followupFor !== "offer") placeFollowup(offerCard(), "offer");
    } else if (followupNode) {
      followupNode.remove();
      followupNode = null;
      followupFor = "";
    }
  }

  function placeFollowup(node, what) {
    if (followupNode) followupNode.replaceWith(node); else addToLog(node);
    followupNode = node;
    followupFor = what;
  }

  function offerCard() {
    const fid = "fb-mail-" + uid;
    const textId = fid + "-text";
    const field = h("input", { id: fid, type: "email", autocomplete: "email", inputmode: "email",
      required: true, maxlength: "254", placeholder: "name@example.com" });
    const problem = h("p", { class: "err", role: "alert" });
    const save = h("button", { class: "save", type: "submit", text: t("emailSave") });
    const no = h("button", { class: "no", type: "button", text: t("emailNo") });
    const formEl = h("form", { novalidate: true },
      h("label", { class: "sr", for: fid, text: t("emailLabel") }), field, save, no);
    const card = h("div", { class: "followup", role: "group", "aria-labelledby": textId },
      h("p", { id: textId }, icon(ICON_MAIL, 16), h("span", { text: t("emailOffer") })),
      formEl, problem);
    formEl.addEventListener("submit", async (e) => {
      e.preventDefault();
      const email = field.value.trim();
      if (!email || !field.checkValidity()) { problem.textContent = t("emailInvalid"); field.focus(); return; }
      save.disabled = true;
      problem.textContent = "";
      try {
        const page = location.href.split("#")[0];
        const r = await api(`/api/conversations/${encodeURIComponent(sid)}/contact`, { email, page });
        placeFollowup(savedCard(r.email), r.email);
        followupNode.querySelector("button").focus();
      } catch (err) {
        problem.textContent = err.status === 400 || err.status === 422 ? t("emailInvalid") : errorMessage(err);
        field.focus();
      } finally { save.disabled = false; }
    });
    no.addEventListener("click", () => {
      store.set("followupNo", sid);
      showFollowup({ email: null, email_offer: false });
      input.focus();
    });
    return card;
  }

  function savedCard(email) {
    const remove = h("button", { class: "remove", type: "button", text: t("emailRemove") });
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      try {
        await api(`/api/conversations/${encodeURIComponent(sid)}/contact`, undefined, "DELETE");
        store.set("followupNo", sid);
        showFollowup({ email: null, email_offer: false });
        input.focus();
      } catch (err) {
        remove.disabled = false;
        showError(err, null);
      }
    });
    return h("div", { class: "followup saved", role: "status" },
      h("p", {}, icon(ICON_MAIL, 16), h("span", { text: t("emailSaved", { email }) }), remove));
  }

  /** Open the conversation a follow-up e-mail links to (#faqbot=<session id>). */
  function adoptLink() {
    const m = /(?:^#|&)faqbot=([A-Za-z0-9_-]{8,64})(?:&|$)/.exec(location.hash || "");
    if (!m) return false;
    if (m[1] !== sid) { sid = m[1]; cursor = 0; store.set("sid", sid); }
    try { history.replaceState(history.state, "", location.pathname + location.search); } catch { /* sandboxed */ }
    return true;
  }

  // ---------------------------------------------------------------- open / close / input
  function setOpen(open, focus = true) {
    isOpen = open;
    panel.hidden = !open;
    root.classList.toggle("open", open);
    store.set("open", open || null);
    if (open) { unread = 0; scrollDown(); }
    updateLauncher();
    if (focus) (open ? input : launcher).focus();
  }

  launcher.addEventListener("click", () => setOpen(!isOpen));
  closeBtn.addEventListener("click", () => setOpen(false));
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.stopPropagation(); setOpen(false); }
  });
  humanBtn.addEventListener("click", () => { askHuman(); input.focus(); });
  withdrawBtn.addEventListener("click", () => { withdraw(); input.focus(); });
  langSelect.addEventListener("change", () => {
    uiLang = langSelect.value;
    chosenLang = uiLang;
    store.set("lang", uiLang);
    applyStrings();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (stagedFiles.length) {
      if (busy || uploading) return;
      input.value = "";
      sendPhotos(text);
      input.focus();
      return;
    }
    if (!text || busy) return;
    input.value = "";
    sendText(text, {});
    input.focus();
  });

  const savedLang = store.get("lang");
  if (savedLang && STRINGS[savedLang]) { uiLang = savedLang; chosenLang = savedLang; }
  fillLanguages([]); // the shopper's language until the server's list arrives
  applyStrings();
  updateHumanButton();
  api("/api/config")
    .then((config) => fillLanguages(Array.isArray(config.languages) ? config.languages : []))
    .catch(() => { /* the menu keeps the current language; chat reports the outage */ });

  function mount() {
    (document.body || document.documentElement).append(host);
    const fromMail = adoptLink();
    if (store.get("open") || fromMail) setOpen(true, false);
    updateHumanButton();
    restore();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  // A small handle for the shop's own "chat with us" links.
  window.faqbot = Object.freeze({
    open: () => setOpen(true),
    close: () => setOpen(false),
  });
})();
